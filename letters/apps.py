from django.apps import AppConfig


class LettersConfig(AppConfig):
    name = "letters"
    verbose_name = "Letters archive"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        import archive_api.checks  # noqa: F401 (registers the deployment checks)
        from letters import footprint, search
        from letters.models import Letter

        footprint.connect_signals()
        # Only the letter's search_text stands for a row with a stored document.
        Letter._meta.get_field("search_text").register_lookup(search.DocumentMatches)
