"""Shared fixtures. Tests run on the database DATABASE_URL names: SQLite by default,
PostgreSQL under scripts/with-postgresql.sh."""

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import connection

from letters import catalogue, services

SEEDS = Path(settings.BASE_DIR) / "seeds"


def pytest_collection_modifyitems(config, items):
    """Skip tests marked for the other engine."""
    vendor = connection.vendor
    for item in items:
        if "postgresql" in item.keywords and vendor != "postgresql":
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL"))
        if "sqlite" in item.keywords and vendor != "sqlite":
            item.add_marker(pytest.mark.skip(reason="needs SQLite"))


@pytest.fixture(scope="session")
def seed_catalogue():
    return catalogue.read(SEEDS / "catalogue.yaml")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, seed_catalogue):
    """Load the five seed documents once into the test database, as load_seeds does.
    Every test runs in a transaction that is rolled back, so each starts from the
    seeded archive; a test that needs an empty archive asks for `empty_archive`."""
    with django_db_blocker.unblock():
        services.catalogue_load(catalogue=seed_catalogue)


@pytest.fixture
def seeded(db):
    """The seeded archive (loaded once per session, see django_db_setup)."""
    from letters.models import Letter

    assert Letter.objects.count() == 5


@pytest.fixture
def empty_archive(db):
    """Delete every archive record inside the test's transaction."""
    from letters import models

    for model in (
        models.Membership,
        models.Signatory,
        models.Addressee,
        models.Issuer,
        models.Mention,
        models.ExternalIdentifier,
        models.Post,
    ):
        model.objects.all().delete()
    models.Letter.objects.all().delete()
    models.Organisation.objects.filter(parent__isnull=False).update(parent=None)
    for model in (models.Person, models.Organisation, models.Place):
        model.objects.all().delete()
    for model in (
        models.Letter,
        models.Person,
        models.Organisation,
        models.Place,
        models.Membership,
        models.Signatory,
        models.Addressee,
        models.Issuer,
        models.Mention,
        models.Post,
        models.ExternalIdentifier,
    ):
        model.history.all().delete()


@pytest.fixture
def curator(db, django_user_model):
    """A staff account with the model permissions a curator needs, not a superuser."""
    user = django_user_model.objects.create_user(
        username="curator", password="a-long-curator-password", is_staff=True
    )
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="letters")
    )
    return user


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    """Each test starts with empty throttle counters (they live in the cache)."""
    from django.core.cache import cache

    cache.clear()
    return


@pytest.fixture
def api(client):
    """GET a JSON API path, asserting the status; returns the decoded body."""

    def get(path, status=200, **params):
        response = client.get(path, params)
        assert response.status_code == status, response.content[:500]
        return response.json()

    return get


def identifiers(body) -> list[str]:
    return [row["identifier"] for row in body["results"]]


@pytest.fixture(autouse=True)
def _package_dir(settings, tmp_path):
    """Each test publishes its data package under its own temporary folder."""
    settings.DATAPACKAGE_DIR = tmp_path / "published" / "datapackage"
    return settings.DATAPACKAGE_DIR
