"""Settings from the environment: production defaults pass `check --deploy`, a missing
secret key stops the server (not maintenance commands) with a clear message, admin
logins are rate-limited."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

ROOT = settings.BASE_DIR
GOOD_KEY = "k7$Qz!9vR2@mW4#xT8^bN1&cL6*pY3(hJ5)fD0-gS_uE+aZ=oI~" * 2


def run_env(drop=()):
    """The test process's environment without any DJANGO_* setting or database."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL")) and k not in drop
    }


def run(*args, env_extra=None, drop=()):
    env = run_env(drop)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_check_deploy_reports_nothing_with_debug_off_and_a_real_key(tmp_path):
    result = run(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_extra={
            "DJANGO_SECRET_KEY": GOOD_KEY,
            "DJANGO_ALLOWED_HOSTS": "archive.example.org",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_archive_refuses_to_serve_without_a_secret_key(tmp_path):
    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    deploy = run("check", "--deploy", env_extra=database)
    assert deploy.returncode != 0
    assert "archive_api.E001" in deploy.stderr
    assert "DJANGO_SECRET_KEY is not set" in deploy.stderr
    # The WSGI entry point (gunicorn, runserver) stops before serving anything.
    served = subprocess.run(
        [sys.executable, "-c", "import archive_api.wsgi"],
        cwd=ROOT,
        env=run_env() | database,
        capture_output=True,
        text=True,
    )
    assert served.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in served.stderr


def test_commands_that_sign_nothing_run_without_a_secret_key(tmp_path):
    """Maintenance (migrations, their check) must not need the production secret."""
    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    result = run("makemigrations", "--check", "--dry-run", env_extra=database)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout


def test_debug_mode_needs_no_key_and_relaxes_https(tmp_path):
    code = (
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, "
        "s.SESSION_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)"
    )
    result = run(
        "shell",
        "-c",
        code,
        env_extra={
            "DJANGO_DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["False", "False", "0"]
    production = run(
        "shell",
        "-c",
        code,
        env_extra={
            "DJANGO_SECRET_KEY": GOOD_KEY,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        },
    )
    assert production.stdout.strip().splitlines()[-1].split() == [
        "True",
        "True",
        "31536000",
    ]


def test_behind_a_tls_proxy_requests_count_as_secure(client):
    response = client.get("/api/v1/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert settings.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")


@pytest.mark.django_db
def test_admin_logins_are_locked_after_repeated_failures(client, curator, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post(
            "/admin/login/?next=/admin/", {"username": "curator", "password": "wrong"}
        )
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "curator", "password": "a-long-curator-password"},
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_curator_logs_in_with_the_right_password(client, curator):
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "curator", "password": "a-long-curator-password"},
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(curator.pk)


@pytest.mark.parametrize(
    ("url_options", "expected"),
    [
        ("", "-c jit=off"),
        ("?options=-c%20statement_timeout%3D5s", "-c statement_timeout=5s -c jit=off"),
        ("?options=-c%20jit%3Don", "-c jit=on"),
    ],
)
def test_postgresql_connections_run_without_jit_unless_the_url_says(
    url_options, expected
):
    """PostgreSQL's JIT compiled the large facet counts for longer than they ran
    (settings.py): connections ask for jit=off, keeping any options the
    DATABASE_URL gives, and a URL that sets jit itself wins."""
    result = run(
        "shell",
        "-c",
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['OPTIONS']['options'])",
        env_extra={
            "DJANGO_DEBUG": "1",
            "DATABASE_URL": f"postgresql://nobody@127.0.0.1:9/none{url_options}",
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected


@pytest.mark.postgresql
def test_the_archive_s_postgresql_sessions_have_jit_off(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
