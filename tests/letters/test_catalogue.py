"""A malformed catalogue or a changed document is refused with a message naming the
file, the entry and the field."""

import shutil
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from letters import catalogue

SEEDS = Path(settings.BASE_DIR) / "seeds"


@pytest.fixture
def seeds_copy(tmp_path):
    for path in SEEDS.iterdir():
        if path.is_file():
            shutil.copy(path, tmp_path / path.name)
    return tmp_path


def edit(folder: Path, change) -> Path:
    path = folder / "catalogue.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


def error_of(path: Path) -> str:
    with pytest.raises(catalogue.CatalogueError) as exc:
        catalogue.read(path)
    return str(exc.value)


def test_the_seed_catalogue_reads(seed_catalogue):
    assert [letter.identifier for letter in seed_catalogue.letters] == [
        "adv-0001",
        "adv-0002",
        "adv-0003",
        "adv-0004",
        "adv-0005",
    ]
    assert len(seed_catalogue.letters[0].signatories) == 18


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["letters"][2].update(kind="tweet"),
            "letters[2] (adv-0003), field 'kind': 'tweet' is not one of",
        ),
        (
            lambda d: d["letters"][1].update(date="2015-02-30"),
            "letters[1] (adv-0002), field 'date': day 30 does not exist",
        ),
        (
            lambda d: d["letters"][0].update(colour="red"),
            "letters[0]: unknown field 'colour'",
        ),
        (
            lambda d: d["letters"][0]["signatories"][3].update(person="nobody"),
            "letters[0] (adv-0001), signatories[3], field 'person': no person has "
            "the key 'nobody'",
        ),
        (
            lambda d: d["letters"][4]["addressees"][0].update(
                office_as_written="Minister of Magic"
            ),
            "letters[4] (adv-0005), addressees[0], field 'office_as_written': "
            "'Minister of Magic' does not occur in 004_f18db51e48f8056d.txt",
        ),
        (
            lambda d: d["letters"][0]["signatories"][0].update(
                certainty="unidentified"
            ),
            "signatories[0], field 'person': an unidentified signature names no person",
        ),
        (
            lambda d: d["letters"][3].update(language="english"),
            "letters[3] (adv-0004), field 'language': 'english' is not an ISO 639-1",
        ),
        (
            lambda d: d["persons"][1].pop("sort_name"),
            "persons[1], field 'sort_name': is required",
        ),
        (
            lambda d: d["persons"].append(dict(d["persons"][0])),
            "field 'key': 'marju-lauristin' is already used by persons[0]",
        ),
        (
            lambda d: d["persons"][5].update(identifiers={"wikidata": "42"}),
            "persons[5], field 'identifiers': '42' is not a valid wikidata",
        ),
        (
            lambda d: d["memberships"][0].update(end="2010"),
            "memberships[0], field 'end': 2010 is before the start 2014-03-31",
        ),
        (
            lambda d: d["letters"][0].update(source="../etc/passwd"),
            "field 'source': must be a file name in the seeds folder",
        ),
        (lambda d: d.update(format="other/2"), "top level, field 'format'"),
        (
            lambda d: d["persons"].append(
                {
                    "key": d["organisations"][1]["key"],
                    "display_name": "X",
                    "sort_name": "X",
                }
            ),
            "field 'key': 's-and-d' is already the key of "
            "organisations[1]; persons and organisations share one key space",
        ),
    ],
)
def test_a_malformed_catalogue_names_entry_and_field(seeds_copy, change, expected):
    path = edit(seeds_copy, change)
    message = error_of(path)
    assert str(path) in message
    assert expected in message


def test_a_changed_document_is_refused_with_both_checksums(seeds_copy):
    document = seeds_copy / "002_54ce065e8f9db68d.txt"
    document.write_bytes(document.read_bytes().replace(b"Kelam", b"Kelan", 1))
    message = error_of(seeds_copy / "catalogue.yaml")
    assert "letters[2] (adv-0003), field 'sha256'" in message
    assert "has changed" in message
    assert "64c29f5456b4d13b92c4ad394e4c2d23f31c3ccf809bfa1ec0881b337f6dd44a" in message


def test_a_missing_document_is_refused(seeds_copy):
    (seeds_copy / "003_0b2022afc5ecdcac.txt").unlink()
    assert "does not exist" in error_of(seeds_copy / "catalogue.yaml")


def test_invalid_yaml_is_refused(seeds_copy):
    path = seeds_copy / "catalogue.yaml"
    path.write_text("letters: [\n  - {identifier: adv-0001\n")
    assert "not valid YAML" in error_of(path)


def test_a_missing_catalogue_is_refused(tmp_path):
    assert "no such catalogue file" in error_of(tmp_path / "catalogue.yaml")
