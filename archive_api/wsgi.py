"""WSGI entry point (gunicorn archive_api.wsgi; runserver loads it too).

It refuses to start without DJANGO_SECRET_KEY when debug is off (archive_api/checks.py).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "archive_api.settings")

application = get_wsgi_application()

from archive_api.checks import require_secret_key  # noqa: E402 (needs settings loaded)

require_secret_key()
