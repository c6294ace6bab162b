"""load_seeds: idempotent, checksum-verified, curator-respecting, all or nothing."""

import shutil
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import CommandError, call_command

from letters import catalogue, services
from letters.models import Addressee, Letter, Person, Signatory

SEEDS = Path(settings.BASE_DIR) / "seeds"


def run(*args) -> str:
    out = StringIO()
    call_command("load_seeds", *args, stdout=out)
    return out.getvalue()


def counts() -> dict:
    from django.apps import apps

    return {
        model.__name__: model.objects.count()
        for model in apps.get_app_config("letters").get_models()
    }


def test_first_load_into_an_empty_archive_creates_everything(empty_archive):
    output = run()
    assert "letters: 5 created" in output
    assert "signatories: 21 created" in output
    assert Letter.objects.count() == 5


def test_loading_twice_changes_nothing_and_says_so(seeded):
    before = counts()
    output = run()
    assert "nothing to change" in output
    assert counts() == before


def test_loader_changes_are_in_the_history_under_the_system_user(seeded):
    letter = Letter.objects.get(identifier="adv-0001")
    record = letter.history.earliest()
    assert record.history_user.username == services.SEED_LOADER_USERNAME
    assert record.history_change_reason == services.CHANGE_REASON
    assert not record.history_user.is_active
    assert not record.history_user.has_usable_password()


def test_a_reload_adds_no_history(seeded):
    before = Letter.history.count() + Signatory.history.count()
    run()
    assert Letter.history.count() + Signatory.history.count() == before


def test_a_curators_edit_survives_a_reload(seeded, curator):
    letter = Letter.objects.get(identifier="adv-0003")
    letter.title = "Kelam to Valls (curator's title)"
    letter.summary = "A curator's summary."
    letter.status = "in_review"
    letter.save()
    signatory = Signatory.objects.get(letter__identifier="adv-0001", position=11)
    signatory.certainty = "unidentified"
    signatory.person = None
    signatory.save()

    output = run()

    letter.refresh_from_db()
    signatory.refresh_from_db()
    assert letter.title == "Kelam to Valls (curator's title)"
    assert letter.summary == "A curator's summary."
    assert letter.status == "in_review"
    assert (signatory.certainty, signatory.person) == ("unidentified", None)
    assert "kept curator edit" in output
    assert "letters[2] (adv-0003): title" in output


def test_the_source_owns_the_transcription(seeded, tmp_path):
    """A changed document with an updated checksum replaces the transcription, while
    curation fields stay as curators left them."""
    for path in SEEDS.iterdir():
        if path.is_file():
            shutil.copy(path, tmp_path / path.name)
    document = tmp_path / "004_f18db51e48f8056d.txt"
    document.write_bytes(document.read_bytes() + b"\n[page 3 missing]\n")
    data = yaml.safe_load((tmp_path / "catalogue.yaml").read_text())
    data["letters"][4]["sha256"] = catalogue.sha256_of(document)
    (tmp_path / "catalogue.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    Letter.objects.filter(identifier="adv-0005").update(summary="Curated.")
    Letter.objects.filter(identifier="adv-0005").update(
        seed_snapshot={}
    )  # as if never loaded: summary is curator-owned now

    run("--catalogue", str(tmp_path / "catalogue.yaml"))

    letter = Letter.objects.get(identifier="adv-0005")
    assert letter.transcription.endswith("[page 3 missing]\n")
    assert letter.summary == "Curated."


def test_catalogue_changes_reach_untouched_fields(seeded, tmp_path):
    for path in SEEDS.iterdir():
        if path.is_file():
            shutil.copy(path, tmp_path / path.name)
    data = yaml.safe_load((tmp_path / "catalogue.yaml").read_text())
    data["letters"][1]["title"] = "A corrected title"
    data["letters"][4]["addressees"].pop()  # drop the Taubira cc
    (tmp_path / "catalogue.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))

    output = run("--catalogue", str(tmp_path / "catalogue.yaml"))

    assert Letter.objects.get(identifier="adv-0002").title == "A corrected title"
    assert Addressee.objects.filter(letter__identifier="adv-0005").count() == 2
    assert "addressees: 0 created, 0 updated, 1 deleted" in output


def test_a_malformed_catalogue_writes_nothing(empty_archive, tmp_path):
    for path in SEEDS.iterdir():
        if path.is_file():
            shutil.copy(path, tmp_path / path.name)
    data = yaml.safe_load((tmp_path / "catalogue.yaml").read_text())
    data["letters"][3]["kind"] = "memo"
    (tmp_path / "catalogue.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))

    with pytest.raises(CommandError) as exc:
        run("--catalogue", str(tmp_path / "catalogue.yaml"))

    assert "Nothing was loaded" in str(exc.value)
    assert "letters[3] (adv-0004), field 'kind'" in str(exc.value)
    assert sum(counts().values()) == 0


def test_a_record_the_database_refuses_late_rolls_back_everything(
    empty_archive, tmp_path
):
    """The last person is too long for its column: places and organisations written
    before it must be rolled back too."""
    for path in SEEDS.iterdir():
        if path.is_file():
            shutil.copy(path, tmp_path / path.name)
    data = yaml.safe_load((tmp_path / "catalogue.yaml").read_text())
    data["persons"][-1]["display_name"] = "x" * 500
    (tmp_path / "catalogue.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))

    with pytest.raises(CommandError) as exc:
        run("--catalogue", str(tmp_path / "catalogue.yaml"))

    assert "persons[39], field 'display_name'" in str(exc.value)
    assert sum(counts().values()) == 0
    assert Person.history.count() == 0


def test_dry_run_reports_and_writes_nothing(empty_archive):
    output = run("--dry-run")
    assert "Dry run, rolled back" in output
    assert "letters: 5 created" in output
    assert sum(counts().values()) == 0


def test_a_person_cannot_take_an_organisations_key(seeded, tmp_path):
    """Persons and organisations share one key space: a catalogue whose new person
    has the key of an organisation already in the archive (not in this catalogue)
    is refused by the service, naming the entry, and writes nothing."""
    from letters.models import Organisation

    Organisation.objects.create(key="new-body", name="New Body", kind="ngo")
    for path in SEEDS.iterdir():
        if path.is_file():
            shutil.copy(path, tmp_path / path.name)
    data = yaml.safe_load((tmp_path / "catalogue.yaml").read_text())
    data["persons"].append({"key": "new-body", "display_name": "N", "sort_name": "N"})
    (tmp_path / "catalogue.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    before = counts()

    with pytest.raises(CommandError) as exc:
        run("--catalogue", str(tmp_path / "catalogue.yaml"))

    assert "persons[40], field 'key'" in str(exc.value)
    assert "'new-body' is already the key of the organisation \"New Body\"" in str(
        exc.value
    )
    assert counts() == before
