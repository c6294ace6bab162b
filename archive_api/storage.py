"""Static files storage: hashed, compressed names after collectstatic (production),
plain names served by WhiteNoise's finders before it (tests, a fresh checkout)."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class ArchiveStaticStorage(CompressedManifestStaticFilesStorage):
    manifest_strict = False

    def stored_name(self, name):
        try:
            return super().stored_name(name)
        except ValueError:
            return name  # not collected yet: WhiteNoise serves it from the finders
