"""Deployment checks of the project's settings (`manage.py check --deploy`)."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def secret_key_is_set(app_configs, **kwargs):
    """An Error (Django's own check only warns): never serve without a key."""
    if settings.DEBUG or settings._wrapped.SECRET_KEY:
        return []
    return [checks.Error(settings.MISSING_SECRET_KEY, id="archive_api.E001")]


def require_secret_key() -> None:
    """Refuse to serve without a key; called by the WSGI entry point."""
    from django.core.exceptions import ImproperlyConfigured

    if secret_key_is_set(None):
        raise ImproperlyConfigured(settings.MISSING_SECRET_KEY)
