"""Migration 0016 brings in the one key space of persons and organisations: it refuses
an archive that already breaks the rule, naming the keys, and migrates once a curator
has mended it. Each step is a separate ``manage.py`` process on its own SQLite file."""

import pytest

from tests.faults.test_interruptions import env_for, manage

pytestmark = pytest.mark.sqlite  # the check is the same query on both engines

SHARE_A_KEY = (
    "from letters.models import Organisation, Person; "
    "Organisation.objects.create(key='shared', name='Body', kind='ngo'); "
    "Person.objects.create(key='shared', display_name='P', sort_name='P')"
)


def test_migrating_refuses_a_key_held_by_a_person_and_an_organisation(tmp_path):
    env = env_for(tmp_path)
    manage(env, "migrate", "letters", "0015", "-v0")
    manage(env, "shell", "-c", SHARE_A_KEY)

    refused = manage(env, "migrate", "-v0", check=False)

    assert refused.returncode != 0
    assert (
        "CommandError: 1 key(s) name both a person and an organisation: 'shared'. "
        "Persons and organisations share one key space now" in refused.stderr
    )
    assert "Traceback" not in refused.stderr
    plan = manage(env, "showmigrations", "letters").stdout
    assert "[ ] 0016_party_key_space" in plan

    manage(env, "shell", "-c", "from letters.models import Person; "
           "Person.objects.filter(key='shared').update(key='mended')")  # fmt: skip
    manage(env, "migrate", "-v0")
    assert "[X] 0016_party_key_space" in manage(env, "showmigrations", "letters").stdout
