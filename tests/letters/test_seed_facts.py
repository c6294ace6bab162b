"""Every fact of every seed document, as loaded: the curated catalogue is the point of
the archive, so each letter is compared whole."""

import hashlib
from pathlib import Path

import pytest
from django.conf import settings

from letters.models import Letter, Membership, Person

SEEDS = Path(settings.BASE_DIR) / "seeds"
SHARED_SEEDS = Path(settings.BASE_DIR).parent / "shared" / "seeds"

MEP = "Member of the European Parliament"


def facts(letter: Letter) -> dict:
    return {
        "kind": letter.kind,
        "title": letter.title,
        "date": letter.date,
        "date_as_written": letter.date_as_written,
        "date_precision": letter.date_precision,
        "date_certainty": letter.date_certainty,
        "place": letter.place.name if letter.place else None,
        "language": letter.language,
        "status": letter.status,
        "source": letter.source_file,
        "addressees": [
            (
                a.role,
                a.person.key if a.person else None,
                a.organisation.key if a.organisation else None,
                a.office_as_written,
                a.certainty,
            )
            for a in letter.addressees.order_by("position")
        ],
        "signatories": [
            (
                s.position,
                s.name_as_written,
                s.person.key if s.person else None,
                s.certainty,
                s.capacity,
                s.organisation.key if s.organisation else None,
            )
            for s in letter.signatories.order_by("position")
        ],
        "issuers": sorted(i.organisation.key for i in letter.issuers.all()),
        "mentioned_persons": sorted(
            m.person.key for m in letter.mentions.filter(person__isnull=False)
        ),
        "mentioned_organisations": sorted(
            m.organisation.key
            for m in letter.mentions.filter(organisation__isnull=False)
        ),
    }


def sd(position, written, person, certainty="certain"):
    return (position, written, person, certainty, MEP, "s-and-d")


EXPECTED = {
    "adv-0001": {
        "kind": "letter",
        "title": "Letter of eighteen S&D Members of the European Parliament to "
        "Laurent Fabius on the extradition of Mukhtar Ablyazov",
        "date": "2015-03-11",
        "date_as_written": "11 March 2015",
        "date_precision": "day",
        "date_certainty": "certain",
        "place": "Strasbourg",
        "language": "en",
        "status": "published",
        "source": "000_e5e52cd604cd2973.txt",
        "addressees": [
            (
                "to",
                "laurent-fabius",
                "fr-foreign-affairs",
                "Minister of Foreign Affairs of the Republic of France",
                "certain",
            ),
        ],
        "signatories": [
            sd(1, "Maurol\tMARJU LAURUSTIN", "marju-lauristin"),
            sd(2, "Ane Jomes\tANA GOMES", "ana-gomes"),
            sd(3, "Julie Ward\tANA GOMES The word", "julie-ward"),
            sd(4, "Kati Piri\tHEP .", "kati-piri"),
            sd(5, "Tours Picula\tTONINO PICULA", "tonino-picula"),
            sd(6, "Liva Jackonsans\tLiisa JAAKONSAIARi", "liisa-jaakonsaari"),
            sd(7, "TANJA FAJON\ttopi toge", "tanja-fajon"),
            sd(8, "JOSEF WEIDENMOLAR\tMuidu", "josef-weidenholzer", "probable"),
            sd(
                9,
                "Chustin REVAULT PHLONNES ROUNETOL\tMonh",
                "christine-revault-dallonnes-bonnefoy",
                "probable",
            ),
            sd(10, "GORAYA POST\tState of the state", "soraya-post", "probable"),
            sd(
                11,
                "(un f dper Aprilan\tun & Upes Sist",
                "juan-fernando-lopez-aguilar",
                "probable",
            ),
            sd(12, "lyal\tElens merciano", "elena-valenciano", "probable"),
            sd(13, "JANU52 ZEMUE\tJam will", "janusz-zemke", "probable"),
            sd(14, "Jona's Fernandez\t", "jonas-fernandez"),
            sd(15, "AFZAL KHAN.\tMA", "afzal-khan"),
            sd(16, "Arne Lietz\tSec.", "arne-lietz"),
            sd(17, "Boguslau Liberaulzhi\t3", "boguslaw-liberadzki", "probable"),
            sd(18, "BRANDO BENIFEI\tAN", "brando-benifei"),
        ],
        "issuers": [],
        "mentioned_persons": [
            "boris-nemtsov",
            "mikhail-khodorkovsky",
            "mukhtar-ablyazov",
            "nursultan-nazarbayev",
        ],
        "mentioned_organisations": [
            "democratic-choice-of-kazakhstan",
            "fr-cour-appel-lyon",
            "fr-cour-de-cassation",
            "interpol",
        ],
    },
    "adv-0002": {
        "kind": "letter",
        "title": "Letter of Mady Delvaux-Stehres MEP to Christiane Taubira on the "
        "extradition of Mukhtar Ablyazov",
        "date": "2015-05-25",
        "date_as_written": "25 May 2015",
        "date_precision": "day",
        "date_certainty": "certain",
        "place": "Brussels",
        "language": "en",
        "status": "published",
        "source": "001_6af9438029659d48.txt",
        "addressees": [
            (
                "to",
                "christiane-taubira",
                "fr-justice",
                "Minister of Justice of the Republic of France",
                "certain",
            ),
        ],
        "signatories": [
            (
                1,
                "Mady Delvaux-Stehres",
                "mady-delvaux-stehres",
                "certain",
                MEP,
                "s-and-d",
            ),
        ],
        "issuers": [],
        "mentioned_persons": ["mukhtar-ablyazov"],
        "mentioned_organisations": [
            "fr-cour-appel-lyon",
            "fr-cour-de-cassation",
            "government-of-france",
            "interpol",
            "un-cat",
        ],
    },
    "adv-0003": {
        "kind": "letter",
        "title": "Letter of Tunne Kelam MEP to Manuel Valls on new information in the "
        "case of Mukhtar Ablyazov",
        "date": "2016-06-29",
        "date_as_written": "29 June, 2016",
        "date_precision": "day",
        "date_certainty": "certain",
        "place": "Brussels",
        "language": "en",
        "status": "published",
        "source": "002_54ce065e8f9db68d.txt",
        "addressees": [
            (
                "to",
                "manuel-valls",
                "government-of-france",
                "Prime Minister of the Republic of France",
                "certain",
            ),
            (
                "cc",
                "jean-jacques-urvoas",
                "fr-justice",
                "Minister of Justice of the Republic of France",
                "certain",
            ),
            (
                "cc",
                "jean-marc-ayrault",
                "fr-foreign-affairs",
                "Minister of Foreign Affairs of the Republic of France",
                "certain",
            ),
        ],
        "signatories": [(1, "Tunne Kelam, MEP", "tunne-kelam", "certain", MEP, None)],
        "issuers": [],
        "mentioned_persons": [
            "mukhtar-ablyazov",
            "nadiya-savchenko",
            "sergei-magnitsky",
            "syrym-shalabayev",
            "tatiana-paraskevich",
        ],
        "mentioned_organisations": ["interpol", "yukos"],
    },
    "adv-0004": {
        "kind": "press_release",
        "title": "In a shocking decision, the French government orders the "
        "extradition of Kazakh dissident Mukhtar Ablyazov to Russia",
        "date": "2015-10-12",
        "date_as_written": "12 October 2015",
        "date_precision": "day",
        "date_certainty": "certain",
        "place": "Warsaw",
        "language": "en",
        "status": "published",
        "source": "003_0b2022afc5ecdcac.txt",
        "addressees": [],
        "signatories": [],
        "issuers": ["open-dialog-foundation"],
        "mentioned_persons": [
            "aleksey-krivoruchko",
            "anna-koj",
            "lyudmyla-kozlovska",
            "manuel-valls",
            "mukhtar-ablyazov",
            "nadiya-savchenko",
            "nursultan-nazarbayev",
            "oleg-sentsov",
            "sergei-magnitsky",
            "yevgeniy-zhovtis",
        ],
        "mentioned_organisations": ["echr", "fr-conseil-etat", "government-of-france"],
    },
    "adv-0005": {
        "kind": "open_letter",
        "title": "Open letter on the situation of M. Mukhtar Ablyazov (Kazakhstan)",
        "date": "2015-05-18",
        "date_as_written": "May 18, 2015",
        "date_precision": "day",
        "date_certainty": "certain",
        "place": "Paris",
        "language": "en",
        "status": "published",
        "source": "004_f18db51e48f8056d.txt",
        "addressees": [
            (
                "to",
                "manuel-valls",
                "government-of-france",
                "Prime Minister",
                "inferred",
            ),
            (
                "cc",
                "laurent-fabius",
                "fr-foreign-affairs",
                "Minister of Foreign affairs and International development",
                "certain",
            ),
            (
                "cc",
                "christiane-taubira",
                "fr-justice",
                "Minister of Justice",
                "certain",
            ),
        ],
        "signatories": [
            (
                1,
                "Jean-Marie Fardeau",
                "jean-marie-fardeau",
                "certain",
                "France Director",
                "human-rights-watch",
            ),
        ],
        "issuers": ["human-rights-watch"],
        "mentioned_persons": ["leonid-razvozzhaev", "mukhtar-ablyazov"],
        "mentioned_organisations": [
            "fr-cour-appel-lyon",
            "fr-cour-de-cassation",
            "moscow-city-court",
            "unhcr",
        ],
    },
}


@pytest.mark.parametrize("identifier", sorted(EXPECTED))
def test_every_fact_of_the_seed_letter_is_loaded(seeded, identifier):
    assert facts(Letter.objects.get(identifier=identifier)) == EXPECTED[identifier]


def test_the_archive_holds_exactly_the_five_seed_letters(seeded):
    assert sorted(Letter.objects.values_list("identifier", flat=True)) == sorted(
        EXPECTED
    )


@pytest.mark.parametrize("identifier", sorted(EXPECTED))
def test_transcription_is_the_source_document_byte_for_byte(seeded, identifier):
    letter = Letter.objects.get(identifier=identifier)
    raw = (SEEDS / letter.source_file).read_bytes()
    assert letter.transcription.encode("utf-8") == raw
    assert letter.source_sha256 == hashlib.sha256(raw).hexdigest()


def test_seed_documents_match_the_shared_originals():
    if not SHARED_SEEDS.is_dir():
        pytest.skip("../shared/seeds is not beside this checkout")
    for original in sorted(SHARED_SEEDS.glob("*.txt")):
        assert (SEEDS / original.name).read_bytes() == original.read_bytes()


def test_every_signature_of_the_ocr_block_is_kept_not_dropped(seeded):
    """000's block has 18 non-empty lines; each is one signatory, none unidentified."""
    letter = Letter.objects.get(identifier="adv-0001")
    block = letter.transcription.split("Sincerely yours,")[1]
    lines = [line for line in block.splitlines() if line.strip()]
    written = list(letter.signatories.values_list("name_as_written", flat=True))
    assert written == lines


def test_the_unnamed_prime_minister_is_the_office_holder_on_the_letters_date(seeded):
    letter = Letter.objects.get(identifier="adv-0005")
    addressee = letter.addressees.get(role="to")
    holders = Membership.objects.held_on(letter.date_earliest).filter(
        post__key="fr-prime-minister"
    )
    assert [m.person for m in holders] == [addressee.person]
    assert addressee.certainty == "inferred"
    assert "names no prime minister" in addressee.identification_note


@pytest.mark.parametrize(
    ("day", "post", "person"),
    [
        ("2015-03-11", "fr-minister-foreign-affairs", "laurent-fabius"),
        ("2016-06-29", "fr-minister-foreign-affairs", "jean-marc-ayrault"),
        ("2015-05-25", "fr-minister-justice", "christiane-taubira"),
        ("2016-06-29", "fr-minister-justice", "jean-jacques-urvoas"),
        ("2015-10-12", "fr-prime-minister", "manuel-valls"),
    ],
)
def test_addressed_offices_match_the_office_records(seeded, day, post, person):
    holders = Membership.objects.held_on(day).filter(post__key=post)
    assert [m.person.key for m in holders] == [person]


def test_verified_mep_identifiers_are_recorded(seeded):
    ids = {
        p.key: {i.scheme: i.value for i in p.identifiers.all()}
        for p in Person.objects.filter(identifiers__isnull=False).distinct()
    }
    assert ids == {
        "liisa-jaakonsaari": {"ep_mep": "96684"},
        "tanja-fajon": {"ep_mep": "96911"},
        "josef-weidenholzer": {"ep_mep": "111014"},
    }


def test_seed_records_are_all_published(seeded):
    assert set(Letter.objects.values_list("status", flat=True)) == {"published"}
    assert set(Membership.objects.values_list("status", flat=True)) == {"published"}
