"""The curation workflow in a real browser: headless Chromium (Debian's package,
/usr/bin/chromium) driven by Playwright against the archive served by gunicorn.

A curator logs in, creates a letter with two signatories (one chosen with the
autocomplete, one created on the spot) and a cc addressee through the admin inlines,
publishes it, and finds it through the API's search and in the rebuilt data package.
Screenshots of each step are kept in test-artifacts/.
"""

import csv
import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "test-artifacts"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.sqlite,  # the served archive uses its own SQLite file either way
    # Outside CI a machine without Chromium skips; in CI (.ci/run installs it) a
    # missing browser fails instead of passing silently.
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="Debian's chromium is needed (apt-get install chromium)",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("e2e")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
        "DATAPACKAGE_DIR": str(work / "published" / "datapackage"),
        "DJANGO_SECRET_KEY": "e2e-only-not-a-secret-" + "x" * 40,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "API_ANON_THROTTLE_RATE": "100000/min",
    }

    def manage(*args):
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )

    manage("migrate", "-v0")
    manage("load_seeds")
    manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User, Permission;"
        "u = User.objects.create_user('curator', password='Curate-2015-letters!',"
        " is_staff=True);"
        "u.user_permissions.set(Permission.objects.filter("
        "content_type__app_label='letters'))",
    )
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "archive_api.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/api/v1/", timeout=2).read()
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15000)
    folder = ARTIFACTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    page.shots = iter(range(1, 100))

    def shot(name):
        page.screenshot(
            path=str(folder / f"{next(page.shots):02d}-{name}.png"), full_page=True
        )

    page.shot = shot
    yield page
    context.close()


def choose(page, select_id: str, term: str, option: str) -> None:
    """Pick an option in a Django admin autocomplete (select2) widget."""
    page.locator(f"#{select_id} + .select2").click()
    page.locator(".select2-container--open .select2-search__field").fill(term)
    page.locator(".select2-results__option", has_text=option).first.click()


def test_a_curator_creates_publishes_and_finds_a_letter(server, page):
    page.goto(server + "/admin/login/")
    page.fill("#id_username", "curator")
    page.fill("#id_password", "Curate-2015-letters!")
    page.shot("login")
    page.click("input[type=submit]")
    page.wait_for_url(server + "/admin/")
    page.shot("logged-in")

    page.goto(server + "/admin/letters/letter/add/")
    page.fill("#id_identifier", "adv-0100")
    page.fill("#id_title", "Letter of two MEPs on the Hivernal case")
    page.select_option("#id_kind", "letter")
    page.select_option("#id_status", "draft")
    page.fill("#id_date_as_written", "2 June 2015")
    page.fill("#id_date", "2015-06-02")
    page.select_option("#id_language", "en")
    page.fill("#id_transcription", "Dear Minister, the Hivernal case deserves care.")

    # Signatory 1: an existing person, through the autocomplete.
    page.click("#signatories-group .add-row a")
    page.fill("#id_signatories-0-position", "1")
    page.fill("#id_signatories-0-name_as_written", "Jonas Fernandez")
    choose(page, "id_signatories-0-person", "jonas", "Jonás Fernández")

    # Signatory 2: a person new to the archive, created from the inline's "+".
    page.click("#signatories-group .add-row a")
    page.fill("#id_signatories-1-position", "2")
    page.fill("#id_signatories-1-name_as_written", "Ilse Hivernal-Marek")
    with page.expect_popup() as popup_info:
        page.click("#add_id_signatories-1-person")
    popup = popup_info.value
    popup.fill("#id_key", "ilse-hivernal-marek")
    popup.fill("#id_display_name", "Ilse Hivernal-Marek")
    popup.fill("#id_sort_name", "Hivernal-Marek, Ilse")
    popup.click("input[name=_save]")
    popup.wait_for_event("close")

    # A cc addressee.
    page.click("#addressees-group .add-row a")
    page.fill("#id_addressees-0-position", "1")
    page.select_option("#id_addressees-0-role", "cc")
    choose(page, "id_addressees-0-person", "fabius", "Laurent Fabius")
    page.fill("#id_addressees-0-office_as_written", "Minister of Foreign Affairs")
    page.shot("letter-filled")
    page.click("input[name=_save]")
    page.wait_for_url(server + "/admin/letters/letter/")
    page.shot("letter-saved")
    assert page.locator("text=adv-0100").count() >= 1

    # Publish it with the admin action.
    row = page.locator("tr", has_text="adv-0100")
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "publish")
    page.click("button[name=index]")
    page.shot("published")
    assert page.locator(".messagelist").inner_text().startswith("1 letter(s) set to")

    # Found through the API's search…
    found = page.request.get(server + "/api/v1/letters/?search=hivernal").json()
    assert [r["identifier"] for r in found["results"]] == ["adv-0100"]
    letter = found["results"][0]
    assert [s["person"]["name"] for s in letter["signatories"]] == [
        "Jonás Fernández",
        "Ilse Hivernal-Marek",
    ]
    assert letter["addressees"][0]["role"] == "cc"
    page.goto(server + "/api/v1/letters/adv-0100/?format=api")
    page.shot("api-letter")

    # …and in the rebuilt data package.
    package = page.request.get(server + "/api/v1/datapackage.zip")
    assert package.status == 200
    with zipfile.ZipFile(io.BytesIO(package.body())) as archive:
        rows = list(
            csv.DictReader(
                io.StringIO(archive.read("letters-archive/data/letters.csv").decode())
            )
        )
        signatories = archive.read("letters-archive/data/signatories.csv").decode()
    assert "adv-0100" in [r["identifier"] for r in rows]
    assert "ilse-hivernal-marek" in signatories


def test_the_api_docs_render_their_operations(server, page):
    page.goto(server + "/api/docs/")
    page.wait_for_selector(".opblock")
    page.shot("api-docs")
    assert page.locator(".opblock").count() >= 12
    assert "/api/v1/letters/" in page.content()
