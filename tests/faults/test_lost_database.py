"""A database that is down, or drops the connection, is a clear error: a 503 in JSON
from the API (never a 500), a message and a non-zero exit from a command, and nothing
half-written. Real servers and real connections: PostgreSQL's own
pg_terminate_backend cuts them."""

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid

import psycopg
import pytest
from django.db import connection

from tests.faults.test_interruptions import ROOT

CLIENT = """
import json, os, django
os.environ["DJANGO_SETTINGS_MODULE"] = "archive_api.settings"
django.setup()
from django.test import Client
response = Client().get("/api/v1/letters/")
print(json.dumps({"status": response.status_code,
                  "type": response["Content-Type"],
                  "retry": response.get("Retry-After"),
                  "body": response.content.decode()}))
"""


def _env(database_url: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SECRET_KEY": "test-only-not-a-secret",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1",
    }


@pytest.mark.sqlite  # needs no server: nothing listens on the port
def test_an_unreachable_database_is_a_503_not_a_500(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", CLIENT],
        cwd=ROOT,
        env=_env("postgresql://archive@127.0.0.1:9/archive?connect_timeout=2"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 503
    assert answer["type"] == "application/json"
    assert answer["retry"] == "5"
    assert "database is unavailable" in json.loads(answer["body"])["detail"]


# --- on the PostgreSQL server of the test run ----------------------------------------


@pytest.fixture
def own_database(db):
    """A database of its own on the test server, so that separate processes see
    committed data; dropped afterwards."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    settings = connection.settings_dict
    name = f"lost_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"],
        password=settings["PASSWORD"] or None, dbname="postgres", autocommit=True,
    )  # fmt: skip
    admin.execute(f'CREATE DATABASE "{name}"')
    url = (
        f"postgresql://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{name}"
    )
    env = _env(url)
    for args in (["migrate", "-v0"], ["load_seeds"]):
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
            capture_output=True,
        )  # fmt: skip

    def terminate() -> int:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        ).fetchall()
        return len(rows)

    def letters() -> int:
        with psycopg.connect(url) as conn:
            return conn.execute("SELECT count(*) FROM letters_letter").fetchone()[0]

    yield env, terminate, letters
    terminate()
    admin.execute(f'DROP DATABASE "{name}"')
    admin.close()


@pytest.mark.postgresql
def test_a_command_that_loses_its_connection_says_so_and_writes_nothing(own_database):
    env, terminate, letters = own_database
    process = subprocess.Popen(
        [sys.executable, "manage.py", "generate_corpus", "--letters", "50000"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while terminate() == 0 and time.monotonic() < deadline:
        time.sleep(0.2)  # until the command has connected; then cut it
    time.sleep(1.5)
    terminate()
    out, err = process.communicate(timeout=120)
    assert process.returncode != 0, out
    assert "Traceback" not in err
    assert "Nothing was generated" in err
    assert "terminat" in err  # the server's own reason is passed on
    assert letters() == 5


@pytest.mark.postgresql
def test_the_api_reconnects_after_the_server_drops_its_connections(own_database):
    env, terminate, _ = own_database
    port = _free_port()
    server = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "gunicorn"),
         "archive_api.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1", "--threads", "2",
         "-k", "gthread"],
        cwd=ROOT, env={**env, "DATABASE_CONN_MAX_AGE": "600"},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert _get_status(port, retries=50) == 200
        assert terminate() >= 1  # the kept connection is gone
        assert _get_status(port) == 200  # checked, reconnected: no error
    finally:
        server.terminate()
        server.wait(timeout=20)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_status(port: int, retries: int = 1) -> int:
    for attempt in range(retries):
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/api/v1/letters/?page_size=5", timeout=10
            ) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            if attempt == retries - 1:
                raise
            time.sleep(0.2)
    raise AssertionError("unreachable")
