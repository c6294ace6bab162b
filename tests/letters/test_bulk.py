"""letters.bulk.indexes_deferred: bulk loads build the role tables' secondary
indexes once, after the rows, and leave the schema exactly as it was, also when the
load fails."""

import pytest
from django.db import connection, transaction

from letters import bulk, synthetic
from letters.models import Addressee, Issuer, Mention, Signatory

ROLE_MODELS = (Signatory, Addressee, Mention, Issuer)


def indexes():
    with connection.cursor() as cursor:
        return {
            m._meta.db_table: bulk._plain_indexes(cursor, m._meta.db_table)
            for m in ROLE_MODELS
        }


def test_the_role_tables_have_plain_indexes_to_defer(db):
    found = indexes()
    assert all(found.values()), found  # else the test below proves nothing
    assert any("person_id" in sql for _, sql in found["letters_signatory"])


def test_generate_leaves_the_same_indexes_and_uses_them(seeded):
    before = indexes()
    synthetic.generate(letters=40, seed=4)
    assert indexes() == before
    assert Signatory.objects.filter(letter__synthetic=True).exists()


def test_a_failed_load_restores_the_indexes(db):
    before = indexes()
    with pytest.raises(ZeroDivisionError):
        with transaction.atomic():
            with bulk.indexes_deferred(*ROLE_MODELS):
                assert all(not v for v in indexes().values())
                1 / 0
    assert indexes() == before


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_run_outside_a_transaction():
    assert not connection.in_atomic_block
    with pytest.raises(RuntimeError, match="transaction"):
        with bulk.indexes_deferred(Signatory):
            pass
