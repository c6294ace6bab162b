"""Django for the bench scripts that measure in-process (prolific.py, statements.py):
the test client's plain-HTTP requests to "testserver", as many as it takes, none cut
by the statement time limit. Each setting is a default: the environment wins."""

import os
import sys

import django

DEFAULTS = {
    "DJANGO_SETTINGS_MODULE": "archive_api.settings",
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_ALLOWED_HOSTS": "testserver",
    "API_ANON_THROTTLE_RATE": "100000/second",
    "API_QUERY_TIME_LIMIT_MS": "0",
}


def setup() -> None:
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    django.setup()
