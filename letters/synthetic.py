"""A synthetic corpus for benchmarks: realistic shapes, deterministic for a seed.

Shapes taken from campaign-letter archives: many signatories per letter with a long
tail (most letters have a handful, some have dozens), signers drawn from a Zipf law so
that a few persons sign thousands of letters, cc recipients, mentions, NGO issuers,
partial and uncertain dates, organisations with parents, posts and memberships.
Every record is marked `synthetic`, its keys start with `syn-`, and it is never mixed
into the seeds. Everything is written in one transaction with bulk inserts.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate

from django.db import transaction
from django.utils import timezone

from letters import bulk, footprint
from letters.models import (
    Addressee,
    Issuer,
    Letter,
    Membership,
    Mention,
    Organisation,
    Person,
    Place,
    Post,
    Signatory,
)

BATCH = 2000
COMMON_WORD = "extradition"  # in almost every letter (a costly search)
RARE_WORD = "quarzitblende"  # in about 1 letter in 2,000 (a selective search)

SYLLABLES = [
    "ka",
    "ri",
    "mo",
    "lu",
    "sen",
    "ta",
    "vo",
    "ni",
    "dra",
    "pel",
    "ost",
    "gar",
    "min",
    "bel",
    "tor",
    "vik",
    "san",
    "ha",
    "lo",
    "me",
    "zu",
    "pri",
    "chen",
    "dor",
    "fal",
    "gru",
    "hel",
    "jan",
    "kor",
    "lem",
    "nov",
    "pas",
    "rud",
    "sol",
    "tam",
    "ur",
    "vel",
    "wis",
    "yar",
    "zol",
]
FIRST = [
    "Anna",
    "Marek",
    "Jonas",
    "Elena",
    "Tomas",
    "Ilse",
    "Pavel",
    "Maria",
    "Jan",
    "Sofia",
    "Luca",
    "Ines",
    "Piotr",
    "Ana",
    "Karl",
    "Marta",
    "Ivan",
    "Olga",
    "Hugo",
    "Lena",
    "Nils",
    "Eva",
    "Rui",
    "Sara",
    "Tiago",
    "Irena",
    "Mikko",
    "Aino",
    "Dario",
    "Clara",
]
WORDS = [
    "minister",
    "letter",
    "concern",
    "human",
    "rights",
    "court",
    "appeal",
    "extradition",
    "decision",
    "government",
    "dissident",
    "protection",
    "asylum",
    "political",
    "opposition",
    "trial",
    "torture",
    "prison",
    "risk",
    "parliament",
    "members",
    "urge",
    "request",
    "authorities",
    "safety",
    "case",
    "family",
    "international",
    "law",
    "assurances",
    "refugees",
    "procedure",
    "decree",
    "council",
    "justice",
    "foreign",
    "affairs",
    "release",
    "detention",
    "campaign",
    "freedom",
    "press",
    "statement",
    "solidarity",
]
CITIES = [
    ("Brussels", "BE"),
    ("Strasbourg", "FR"),
    ("Paris", "FR"),
    ("Warsaw", "PL"),
    ("Berlin", "DE"),
    ("Vienna", "AT"),
    ("Madrid", "ES"),
    ("Rome", "IT"),
    ("Lisbon", "PT"),
    ("Tallinn", "EE"),
    ("Riga", "LV"),
    ("Vilnius", "LT"),
    ("Helsinki", "FI"),
    ("Stockholm", "SE"),
    ("Copenhagen", "DK"),
    ("Prague", "CZ"),
    ("Bratislava", "SK"),
    ("Ljubljana", "SI"),
    ("Zagreb", "HR"),
    ("Budapest", "HU"),
    ("Bucharest", "RO"),
    ("Sofia", "BG"),
    ("Athens", "GR"),
    ("Dublin", "IE"),
    ("London", "GB"),
    ("Geneva", "CH"),
    ("The Hague", "NL"),
    ("Luxembourg", "LU"),
    ("Kyiv", "UA"),
    ("Almaty", "KZ"),
]


@dataclass
class CorpusReport:
    letters: int = 0
    persons: int = 0
    organisations: int = 0
    signatories: int = 0
    addressees: int = 0
    mentions: int = 0
    issuers: int = 0
    memberships: int = 0
    extra: dict = field(default_factory=dict)


class SyntheticCorpusExists(Exception):
    pass


def _name(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


def _partial_date(rng: random.Random) -> tuple[str, str]:
    day = date(2010, 1, 1) + timedelta(days=rng.randrange(11 * 365))
    roll = rng.random()
    certainty = (
        "certain" if rng.random() < 0.9 else rng.choice(["inferred", "approximate"])
    )
    if roll < 0.8:
        return day.isoformat(), certainty
    if roll < 0.92:
        return day.strftime("%Y-%m"), certainty
    if roll < 0.97:
        return str(day.year), certainty
    end = day + timedelta(days=rng.randrange(10, 90))
    return f"{day.isoformat()}/{end.isoformat()}", certainty


def generate(
    *, letters: int, seed: int = 1, replace: bool = False,
    progress: Callable[[int], None] | None = None,
) -> CorpusReport:  # fmt: skip
    """Create the corpus in one transaction; all of it or nothing."""
    with transaction.atomic():
        existing = Letter.objects.filter(synthetic=True).count()
        if existing and not replace:
            raise SyntheticCorpusExists(
                f"a synthetic corpus is already loaded ({existing} letters); pass "
                "--replace to regenerate it"
            )
        if existing or replace:
            delete_synthetic()
        with bulk.search_index_deferred():
            with bulk.indexes_deferred(Signatory, Addressee, Mention, Issuer):
                report = _generate(letters, seed, progress)
            # Bulk inserts send no signals: recompute every footprint at once.
            footprint.refresh(everything=True)
    bulk.refresh_statistics()
    return report


def delete_synthetic() -> None:
    """Bulk delete without per-row signals: synthetic rows have no history worth
    keeping, and children go first so no cascade is needed."""
    letters = Letter.objects.filter(synthetic=True).values("pk")
    for queryset in (
        *(
            m.objects.filter(letter__in=letters)
            for m in (Signatory, Addressee, Mention, Issuer)
        ),
        Membership.objects.filter(person__synthetic=True),
        Membership.objects.filter(organisation__synthetic=True),
        Letter.objects.filter(synthetic=True),
        Post.objects.filter(key__startswith="syn-"),
        Person.objects.filter(synthetic=True),
    ):
        queryset._raw_delete(queryset.db)
    Organisation.objects.filter(synthetic=True).update(parent=None)
    for queryset in (
        Organisation.objects.filter(synthetic=True),
        Place.objects.filter(key__startswith="syn-"),
    ):
        queryset._raw_delete(queryset.db)
    footprint.refresh(everything=True)


def _generate(n_letters: int, seed: int, progress) -> CorpusReport:
    rng = random.Random(seed)
    report = CorpusReport()

    places = Place.objects.bulk_create(
        [
            Place(key=f"syn-pl{i:03d}", name=f"{city} (synthetic)", country=country)
            for i, (city, country) in enumerate(CITIES)
        ]
    )

    n_orgs = max(20, n_letters // 200)
    kinds = (
        ["ngo"] * 5
        + ["ministry"] * 2
        + ["political_group", "parliamentary_body", "court"]
    )
    orgs = []
    for i in range(n_orgs):
        name = f"{_name(rng, 3)} {rng.choice(['Foundation', 'Ministry', 'Group', 'Committee', 'Court', 'Watch'])}"  # noqa: E501
        org = Organisation(
            key=f"syn-o{i:05d}",
            name=name,
            acronym=name[:3].upper(),
            kind=rng.choice(kinds),
            country=rng.choice(CITIES)[1],
            synthetic=True,
        )
        org.refresh_derived()
        orgs.append(org)
    orgs = Organisation.objects.bulk_create(orgs, batch_size=BATCH)
    for org in orgs[20:]:
        if rng.random() < 0.3:
            org.parent_id = orgs[rng.randrange(20)].pk
    Organisation.objects.bulk_update(orgs, ["parent"], batch_size=BATCH)
    ngos = [o for o in orgs if o.kind == "ngo"] or orgs
    report.organisations = len(orgs)

    n_persons = max(50, n_letters // 5)
    persons = []
    for i in range(n_persons):
        first, last = rng.choice(FIRST), _name(rng, rng.randint(2, 3))
        person = Person(
            key=f"syn-p{i:06d}",
            display_name=f"{first} {last}",
            sort_name=f"{last}, {first}",
            country=rng.choice(CITIES)[1],
            other_names=f"{first[0]}. {last}" if rng.random() < 0.2 else "",
            synthetic=True,
        )
        person.refresh_derived()
        persons.append(person)
    persons = Person.objects.bulk_create(persons, batch_size=BATCH)
    report.persons = len(persons)

    posts = Post.objects.bulk_create(
        [
            Post(
                key=f"syn-post{i:03d}",
                label=f"Synthetic post {i}",
                role="Member",
                organisation=orgs[i % len(orgs)],
            )
            for i in range(30)
        ]
    )
    memberships = []
    for i, person in enumerate(persons):
        for j in range(rng.choice((0, 0, 1, 1, 2))):
            post = rng.choice(posts)
            start = date(2005, 1, 1) + timedelta(days=rng.randrange(12 * 365))
            end = start + timedelta(days=rng.randrange(200, 3000))
            m = Membership(
                key=f"syn-m{i:06d}-{j}",
                person=person,
                organisation_id=post.organisation_id,
                post=post,
                role="Member",
                start=start.isoformat(),
                end=end.isoformat() if rng.random() < 0.8 else "",
                status="published",
            )
            m.derive_dates()
            memberships.append(m)
    Membership.objects.bulk_create(memberships, batch_size=BATCH)
    report.memberships = len(memberships)

    # Zipf over persons: the first few sign thousands of letters.
    cum = list(accumulate(1.0 / (rank + 1) ** 1.05 for rank in range(len(persons))))
    word_cum = list(accumulate(1.0 / (rank + 1) for rank in range(len(WORDS))))
    kinds_letter = (
        ["letter"] * 14 + ["open_letter"] * 3 + ["press_release"] * 2 + ["statement"]
    )

    for start in range(0, n_letters, BATCH):
        batch = []
        for n in range(start, min(start + BATCH, n_letters)):
            words = rng.choices(WORDS, cum_weights=word_cum, k=rng.randint(80, 200))
            if rng.random() < 0.97:
                words.insert(rng.randrange(len(words)), COMMON_WORD)
            if rng.random() < 0.0005:
                words.insert(rng.randrange(len(words)), RARE_WORD)
            text = " ".join(words)
            day, certainty = _partial_date(rng)
            letter = Letter(
                identifier=f"syn-{n + 1:07d}",
                title=f"Synthetic letter {n + 1} on {' '.join(words[:4])}",
                kind=rng.choice(kinds_letter),
                date=day,
                date_certainty=certainty,
                date_as_written=day,
                place=rng.choice(places),
                language="en",
                summary=" ".join(words[:25]),
                transcription=text,
                status="published" if rng.random() < 0.97 else "draft",
                synthetic=True,
            )
            letter.refresh_derived()
            batch.append(letter)
        batch = Letter.objects.bulk_create(batch, batch_size=BATCH)
        _roles(rng, batch, persons, orgs, ngos, cum, report)
        report.letters += len(batch)
        if progress is not None:
            progress(len(batch))
    return report


def _insert(model, columns: list[str], rows: list[tuple]) -> None:
    """Plain multi-row INSERTs (letters/bulk.py): a million role rows without a
    million model objects (no signals, no history: synthetic rows are not curated)."""
    stamped = bulk.stamp(timezone.now())
    bulk.insert_rows(
        model, [*columns, *bulk.STAMP_COLUMNS], (r + stamped for r in rows)
    )


def _roles(rng, letters, persons, orgs, ngos, cum, report) -> None:
    signatories, addressees, mentions, issuers = [], [], [], []
    mep = "Member of the European Parliament"
    for letter in letters:
        roll = rng.random()
        if roll < 0.55:
            count = rng.randint(1, 5)
        elif roll < 0.85:
            count = rng.randint(6, 25)
        else:
            count = rng.randint(26, 70)
        chosen = {p.pk: p for p in rng.choices(persons, cum_weights=cum, k=count)}
        for position, person in enumerate(chosen.values(), start=1):
            r = rng.random()
            if r < 0.02:
                signatories.append(
                    (
                        letter.pk,
                        position,
                        f"illegible {_name(rng, 2)}",
                        None,
                        "unidentified",
                        "",
                        None,
                        "",
                    )
                )
                continue
            signatories.append(
                (
                    letter.pk,
                    position,
                    person.display_name.upper(),
                    person.pk,
                    "probable" if r < 0.1 else "certain",
                    mep,
                    orgs[person.pk % 20].pk if r < 0.5 else None,
                    "",
                )
            )
        addressees.append(
            (
                letter.pk,
                1,
                "to",
                rng.choice(persons).pk,
                rng.choice(orgs).pk,
                "Minister",
                "certain",
                "",
            )
        )
        for position in range(2, 2 + rng.choice((0, 1, 1, 2, 3))):
            addressees.append(
                (
                    letter.pk,
                    position,
                    "cc",
                    rng.choice(persons).pk,
                    None,
                    "",
                    "certain",
                    "",
                )
            )
        seen = set()
        for _ in range(rng.randint(0, 5)):
            if rng.random() < 0.6:
                p = rng.choice(persons)
                if ("p", p.pk) not in seen:
                    seen.add(("p", p.pk))
                    mentions.append(
                        (letter.pk, p.pk, None, p.display_name, "certain", "")
                    )
            else:
                o = rng.choice(orgs)
                if ("o", o.pk) not in seen:
                    seen.add(("o", o.pk))
                    mentions.append((letter.pk, None, o.pk, o.name, "certain", ""))
        if rng.random() < 0.3:
            issuers.append((letter.pk, rng.choice(ngos).pk))
    _insert(
        Signatory,
        [
            "letter_id",
            "position",
            "name_as_written",
            "person_id",
            "certainty",
            "capacity",
            "organisation_id",
            "identification_note",
        ],
        signatories,
    )
    _insert(
        Addressee,
        [
            "letter_id",
            "position",
            "role",
            "person_id",
            "organisation_id",
            "office_as_written",
            "certainty",
            "identification_note",
        ],
        addressees,
    )
    _insert(
        Mention,
        [
            "letter_id",
            "person_id",
            "organisation_id",
            "name_as_written",
            "certainty",
            "identification_note",
        ],
        mentions,
    )
    _insert(Issuer, ["letter_id", "organisation_id"], issuers)
    report.signatories += len(signatories)
    report.addressees += len(addressees)
    report.mentions += len(mentions)
    report.issuers += len(issuers)
