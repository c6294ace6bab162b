from django.apps import AppConfig


class LettersConfig(AppConfig):
    name = "letters"
    verbose_name = "Letters archive"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        import archive_api.checks  # noqa: F401 (registers the deployment checks)
        from letters import footprint

        footprint.connect_signals()
