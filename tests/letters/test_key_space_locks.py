"""PostgreSQL's key-space trigger (migrations 0016 and 0020) serialises two writers of
one key with an advisory lock, and a transaction may still write any number of keys."""

import threading

import pytest
from django.db import IntegrityError, connection, connections, transaction

from letters.models import Organisation, Person

pytestmark = pytest.mark.postgresql


def _lock_table_slots() -> int:
    """How many locks the server's shared lock table holds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_locks_per_transaction')::int"
            " * (current_setting('max_connections')::int"
            " + current_setting('max_prepared_transactions')::int)"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_one_transaction_writes_more_keys_than_the_lock_table_holds():
    """A lock per key made generate_corpus and import_datapackage fail with "out of
    shared memory" on a default server (6,400 locks) at 20,000 persons."""
    # The table has some slack beyond its nominal size: three times it overflows.
    count = 3 * _lock_table_slots()
    assert count < 60_000, "a server with a large lock table proves nothing here"
    with transaction.atomic():
        Person.objects.bulk_create(
            Person(key=f"bulk-{n}", display_name="B", sort_name="B")
            for n in range(count)
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                " AND pid = pg_backend_pid()"
            )
            held = cursor.fetchone()[0]
    assert Person.objects.filter(key__startswith="bulk-").count() == count
    assert held <= 256


@pytest.mark.django_db(transaction=True)
def test_a_second_writer_of_a_key_waits_and_sees_the_first():
    """Without the lock, neither transaction would see the other's uncommitted row,
    and a person and an organisation would both commit with one key."""
    outcome = {}

    def second_writer(started):
        # Its own connection (Django's connections are per thread).
        try:
            started.set()
            with transaction.atomic():
                Organisation.objects.create(key="race", name="Race", kind="ngo")
            outcome["second"] = "committed"
        except IntegrityError as exc:
            outcome["second"] = str(exc)
        finally:
            connections.close_all()

    with transaction.atomic():
        Person.objects.create(key="race", display_name="R", sort_name="R")
        started = threading.Event()
        thread = threading.Thread(target=second_writer, args=(started,))
        thread.start()
        assert started.wait(10)
        thread.join(1.5)  # it waits for this transaction's lock
        assert thread.is_alive(), "the second writer did not wait for the first"
    thread.join(10)
    assert not thread.is_alive()
    assert "already the key of a person" in outcome["second"]
    assert not Organisation.objects.filter(key="race").exists()
    assert Person.objects.filter(key="race").count() == 1
