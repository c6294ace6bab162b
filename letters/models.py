"""The archive's records: letters, the persons and organisations they involve, the
roles that tie them together, and the offices people held over time.

Help texts speak to curators: they appear under each field in the admin.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from letters import dates
from letters.footprint import FOOTPRINT_FIELDS as FOOTPRINT
from letters.querysets import (
    LetterQuerySet,
    MembershipQuerySet,
    OrganisationQuerySet,
    PersonQuerySet,
    PlaceQuerySet,
)
from letters.text import fold
from letters.vocabularies import (
    IDENTIFIER_PATTERNS,
    LANGUAGES,
    AddresseeCertainty,
    AddresseeRole,
    DateCertainty,
    DatePrecision,
    Identification,
    IdentifierScheme,
    LetterKind,
    OrganisationKind,
    ReviewStatus,
)

country_validator = RegexValidator(
    r"^[A-Z]{2}$", "Use the two-letter ISO 3166-1 code in capitals, e.g. FR, KZ."
)
key_validator = RegexValidator(
    r"^[a-z0-9]+(--?[a-z0-9]+)*$",
    "Lower-case letters, digits and single hyphens, e.g. laurent-fabius.",
)


def validate_partial_date(value: str) -> None:
    try:
        dates.parse(value)
    except dates.PartialDateError as exc:
        raise ValidationError(str(exc)) from exc


def lines(text: str) -> list[str]:
    """The non-empty lines of a one-per-line text field."""
    return [line.strip() for line in text.splitlines() if line.strip()]


class Timestamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    # Not indexed: nothing reads records by their last change (the data package's
    # `created` is the latest value it writes), and at 100k letters the index
    # cost 40 MB and 1.4 s of every bulk load on the signatories alone.
    updated_at = models.DateTimeField(auto_now=True)
    seed_snapshot = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="What the seed loader last wrote; lets a reload spot curator edits.",
    )

    class Meta:
        abstract = True


# --- places, persons, organisations ---------------------------------------------------


class PartyKey(models.Model):
    """Persons and organisations share one key space: a letter's addressee or cc is
    either, and the API's ``addressee=`` and ``cc=`` take the key of either, so a key
    names one party only. Each table's unique index holds within its kind; this check
    holds across the two (the admin's forms and the services run it, migration 0016's
    triggers hold it for every other write)."""

    class Meta:
        abstract = True

    def validate_unique(self, exclude=None) -> None:
        errors: dict = {}
        try:
            super().validate_unique(exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if self.key and "key" not in errors and "key" not in (exclude or ()):
            other = Organisation if isinstance(self, Person) else Person
            holder = other.objects.filter(key=self.key).first()
            if holder is not None:
                errors["key"] = [
                    ValidationError(
                        '%(key)s is already the key of the %(kind)s "%(holder)s": '
                        "persons and organisations share one key space.",
                        code="unique",
                        params={
                            "key": repr(self.key),
                            "kind": other._meta.verbose_name,
                            "holder": holder,
                        },
                    )
                ]
        if errors:
            raise ValidationError(errors)


class Place(Timestamped):
    key = models.SlugField(
        max_length=80,
        unique=True,
        validators=[key_validator],
        help_text="Stable short name used by the seed catalogue, e.g. strasbourg.",
    )
    name = models.CharField(max_length=200, help_text="English name of the place.")
    country = models.CharField(
        max_length=2, blank=True, validators=[country_validator], help_text="ISO code."
    )
    wikidata = models.CharField(
        max_length=20,
        blank=True,
        validators=[RegexValidator(IDENTIFIER_PATTERNS["wikidata"])],
        help_text="Wikidata QID of the place, e.g. Q6602 (optional).",
    )

    objects = PlaceQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Person(PartyKey, Timestamped):
    key = models.SlugField(
        max_length=80,
        unique=True,
        validators=[key_validator],
        help_text="Stable short name used by the seed catalogue, e.g. laurent-fabius. "
        "Never reuse a key for another person; no organisation may have it.",
    )
    display_name = models.CharField(
        max_length=200, help_text="The name as the archive shows it: Jonás Fernández."
    )
    sort_name = models.CharField(
        max_length=200,
        help_text="Surname first, for sorting and indexes: Fernández, Jonás.",
    )
    other_names = models.TextField(
        blank=True,
        help_text="Other names and spellings, one per line (transliterations, maiden "
        "names, forms found in sources). All are searchable.",
    )
    honorific = models.CharField(
        max_length=40, blank=True, help_text="Mr, Ms, Dr… as the person is addressed."
    )
    country = models.CharField(
        max_length=2,
        blank=True,
        validators=[country_validator],
        help_text="Country the person is chiefly associated with (ISO code).",
    )
    description = models.CharField(
        max_length=300,
        blank=True,
        help_text="One public line: who this is, e.g. 'Kazakh opposition politician'.",
    )
    email = models.EmailField(
        blank=True, help_text="Contact detail for curators only. Never public."
    )
    telephone = models.CharField(
        max_length=60,
        blank=True,
        help_text="Contact detail for curators. Never public.",
    )
    notes = models.TextField(
        blank=True, help_text="Curator notes. Never shown in the API or the package."
    )
    search_text = models.TextField(
        blank=True, editable=False, help_text="Folded names for accent-free search."
    )
    synthetic = models.BooleanField(
        default=False,
        editable=False,
        help_text="Generated by generate_corpus for benchmarks; not a real record.",
    )
    # The public footprint: derived from the published records, kept exact by
    # letters.footprint, never edited.
    is_public = models.BooleanField(
        default=False,
        editable=False,
        help_text="Named in a published letter or holding a published office.",
    )
    letters_signed = models.PositiveIntegerField(default=0, editable=False)
    letters_received = models.PositiveIntegerField(default=0, editable=False)
    letters_addressed = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Published letters addressed to them (to).",
    )
    letters_copied = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Published letters copied to them (cc).",
    )
    letters_mentioned_in = models.PositiveIntegerField(default=0, editable=False)
    letters_total = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Published letters in any role, each letter once.",
    )
    public_offices = models.PositiveIntegerField(default=0, editable=False)

    objects = PersonQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=["search_text", "seed_snapshot", *FOOTPRINT["Person"]]
    )

    class Meta:
        ordering = ["sort_name", "id"]
        indexes = [
            models.Index(
                fields=["is_public", "sort_name", "id"], name="person_public_name"
            ),
            models.Index(
                fields=["is_public", "-letters_signed", "sort_name", "id"],
                name="person_public_signed",
            ),
            # The person facet's ranking (letters.facets).
            models.Index(fields=["-letters_total", "id"], name="person_letters_total"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(display_name=""), name="person_display_name_not_empty"
            ),
            models.CheckConstraint(
                condition=~Q(sort_name=""), name="person_sort_name_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args, **kwargs):
        self.refresh_derived()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)

    @property
    def other_names_list(self) -> list[str]:
        return lines(self.other_names)

    def refresh_derived(self) -> None:
        """Set the folded search column (save() and bulk imports call it)."""
        self.search_text = fold(
            " | ".join([self.display_name, self.sort_name, *self.other_names_list])
        )


class Organisation(PartyKey, Timestamped):
    key = models.SlugField(
        max_length=80,
        unique=True,
        validators=[key_validator],
        help_text="Stable short name used by the seed catalogue, e.g. "
        "human-rights-watch. No person may have it.",
    )
    name = models.CharField(max_length=300, help_text="Full official name.")
    acronym = models.CharField(max_length=40, blank=True, help_text="e.g. S&D, HRW.")
    other_names = models.TextField(
        blank=True,
        help_text="Other names and translations, one per line. All are searchable.",
    )
    kind = models.CharField(max_length=40, choices=OrganisationKind.choices)
    country = models.CharField(
        max_length=2, blank=True, validators=[country_validator], help_text="ISO code."
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="The body this one belongs to: a committee's parliament, a "
        "ministry's government.",
    )
    email = models.EmailField(
        blank=True, help_text="Contact detail for curators only. Never public."
    )
    telephone = models.CharField(
        max_length=60,
        blank=True,
        help_text="Contact detail for curators. Never public.",
    )
    notes = models.TextField(
        blank=True, help_text="Curator notes. Never shown in the API or the package."
    )
    search_text = models.TextField(blank=True, editable=False)
    synthetic = models.BooleanField(
        default=False,
        editable=False,
        help_text="Generated by generate_corpus for benchmarks; not a real record.",
    )
    # The public footprint (see Person).
    is_public = models.BooleanField(
        default=False,
        editable=False,
        help_text="Named in a published letter or office, or the parent or "
        "grandparent of a body that is.",
    )
    letters_issued = models.PositiveIntegerField(default=0, editable=False)
    letters_signed_for = models.PositiveIntegerField(default=0, editable=False)
    letters_received = models.PositiveIntegerField(default=0, editable=False)
    letters_mentioned_in = models.PositiveIntegerField(default=0, editable=False)
    letters_total = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Published letters in any role, each letter once.",
    )
    public_offices = models.PositiveIntegerField(default=0, editable=False)

    objects = OrganisationQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=["search_text", "seed_snapshot", *FOOTPRINT["Organisation"]]
    )

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(
                fields=["is_public", "name", "id"], name="organisation_public_name"
            ),
            models.Index(
                fields=["-letters_total", "id"], name="organisation_letters_total"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(name=""), name="organisation_name_not_empty"
            ),
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")), name="organisation_not_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.acronym})" if self.acronym else self.name

    def save(self, *args, **kwargs):
        self.refresh_derived()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)

    @property
    def other_names_list(self) -> list[str]:
        return lines(self.other_names)

    def refresh_derived(self) -> None:
        """Set the folded search column (save() and bulk imports call it)."""
        self.search_text = fold(
            " | ".join([self.name, self.acronym, *self.other_names_list])
        )

    def clean(self) -> None:
        ancestor, seen = self.parent, set()
        while ancestor is not None:
            if ancestor.pk == self.pk or ancestor.pk in seen:
                raise ValidationError(
                    {"parent": "An organisation cannot be its own ancestor."}
                )
            seen.add(ancestor.pk)
            ancestor = ancestor.parent


class ExternalIdentifier(models.Model):
    """An identifier of a person or an organisation in another authority file."""

    person = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="identifiers",
    )
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="identifiers",
    )
    scheme = models.CharField(max_length=20, choices=IdentifierScheme.choices)
    value = models.CharField(
        max_length=64,
        help_text="Only the identifier, not a URL: Q12345 for Wikidata, 96684 for "
        "an MEP.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["scheme", "value"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(person__isnull=False, organisation__isnull=True)
                    | Q(person__isnull=True, organisation__isnull=False)
                ),
                name="identifier_has_one_owner",
            ),
            models.UniqueConstraint(
                fields=["scheme", "value"], name="identifier_unique_per_scheme"
            ),
            models.UniqueConstraint(
                fields=["person", "scheme"],
                condition=Q(person__isnull=False),
                name="identifier_one_per_person_and_scheme",
            ),
            models.UniqueConstraint(
                fields=["organisation", "scheme"],
                condition=Q(organisation__isnull=False),
                name="identifier_one_per_organisation_and_scheme",
            ),
            *[
                models.CheckConstraint(
                    condition=~Q(scheme=scheme) | Q(value__regex=pattern),
                    name=f"identifier_{scheme}_format",
                )
                for scheme, pattern in IDENTIFIER_PATTERNS.items()
            ],
        ]

    def __str__(self) -> str:
        return f"{self.get_scheme_display()} {self.value}"

    def clean(self) -> None:
        import re

        pattern = IDENTIFIER_PATTERNS.get(self.scheme)
        if pattern and not re.match(pattern, self.value or ""):
            raise ValidationError(
                {"value": f"{self.value!r} is not a valid {self.get_scheme_display()}."}
            )
        if (self.person_id is None) == (self.organisation_id is None):
            raise ValidationError(
                "An identifier belongs to one person or one organisation."
            )

    @property
    def url(self) -> str:
        return {
            "wikidata": "https://www.wikidata.org/wiki/{}",
            "ep_mep": "https://www.europarl.europa.eu/meps/en/{}",
            "viaf": "https://viaf.org/viaf/{}",
            "isni": "https://isni.org/isni/{}",
            "gnd": "https://d-nb.info/gnd/{}",
        }[self.scheme].format(self.value)


# --- offices over time (Popolo's Post and Membership) -------------------------------


class Post(Timestamped):
    """A position that exists independently of who holds it: 'Prime Minister of
    France', 'Member of the European Parliament'."""

    key = models.SlugField(max_length=80, unique=True, validators=[key_validator])
    label = models.CharField(max_length=300, help_text="e.g. Prime Minister of France.")
    role = models.CharField(max_length=120, help_text="e.g. Prime Minister.")
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="posts",
        help_text="The body in which the post exists.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class Membership(Timestamped):
    """A person's membership of an organisation, or tenure of a post, over time."""

    key = models.SlugField(max_length=120, unique=True, validators=[key_validator])
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="memberships"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships"
    )
    post = models.ForeignKey(
        Post,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships",
        help_text="The post held, if this membership is the tenure of a post.",
    )
    role = models.CharField(
        max_length=120, help_text="e.g. Member, Vice-Chair, President, France Director."
    )
    start = models.CharField(
        max_length=25,
        blank=True,
        validators=[validate_partial_date],
        help_text="From (YYYY, YYYY-MM or YYYY-MM-DD); empty if not known.",
    )
    end = models.CharField(
        max_length=25,
        blank=True,
        validators=[validate_partial_date],
        help_text="To (YYYY, YYYY-MM or YYYY-MM-DD); empty if ongoing or not known.",
    )
    start_date = models.DateField(null=True, blank=True, editable=False)
    end_date = models.DateField(null=True, blank=True, editable=False)
    attested_by = models.ForeignKey(
        "Letter",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attested_memberships",
        help_text="A letter of the archive that attests this membership.",
    )
    source_note = models.CharField(
        max_length=500, blank=True, help_text="Where the dates come from (public)."
    )
    status = models.CharField(
        max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT
    )
    notes = models.TextField(blank=True, help_text="Curator notes. Never public.")

    objects = MembershipQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["seed_snapshot"])

    class Meta:
        ordering = ["person__sort_name", "start_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(start_date__lte=models.F("end_date")),
                name="membership_starts_before_it_ends",
            ),
        ]
        indexes = [models.Index(fields=["start_date", "end_date"])]

    def __str__(self) -> str:
        span = f"{self.start or '?'}–{self.end or ''}"
        what = self.post.label if self.post_id else f"{self.role}, {self.organisation}"
        return f"{self.person}: {what} ({span})"

    def save(self, *args, **kwargs):
        for value in (self.start, self.end):
            if value:
                dates.parse(value)
        self.derive_dates()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self.derive_dates()
        if (
            self.post_id
            and self.organisation_id
            and (self.post.organisation_id != self.organisation_id)
        ):
            raise ValidationError(
                {"organisation": "Must be the organisation of the post."}
            )
        if self.start and self.end:
            try:
                if dates.parse(self.end).latest < dates.parse(self.start).earliest:
                    raise ValidationError({"end": "Ends before it starts."})
            except dates.PartialDateError:
                pass  # reported by the field validators

    def derive_dates(self) -> None:
        try:
            self.start_date = dates.parse(self.start).earliest if self.start else None
            self.end_date = dates.parse(self.end).latest if self.end else None
        except dates.PartialDateError:
            pass  # reported by the field validators


# --- letters and their roles --------------------------------------------------------


class Letter(Timestamped):
    identifier = models.SlugField(
        max_length=64,
        unique=True,
        validators=[key_validator],
        help_text="Stable public identifier used in URLs and citations, e.g. "
        "adv-0001. It never changes once assigned.",
    )
    title = models.CharField(max_length=500)
    kind = models.CharField(
        max_length=30, choices=LetterKind.choices, default=LetterKind.LETTER
    )
    date_as_written = models.CharField(
        max_length=200,
        blank=True,
        help_text="The date exactly as the source gives it, e.g. '29 June, 2016'.",
    )
    date = models.CharField(
        max_length=25,
        blank=True,
        validators=[validate_partial_date],
        help_text="Normalised date: 2015-05-18 (day), 2015-05 (month), 2015 (year) "
        "or 2015-05-01/2015-06-15 (somewhere in a range). Empty if unknown.",
    )
    date_certainty = models.CharField(
        max_length=20, choices=DateCertainty.choices, default=DateCertainty.CERTAIN
    )
    date_precision = models.CharField(
        max_length=10,
        choices=DatePrecision.choices,
        default=DatePrecision.UNKNOWN,
        editable=False,
    )
    date_earliest = models.DateField(null=True, blank=True, editable=False)
    date_latest = models.DateField(null=True, blank=True, editable=False)
    place = models.ForeignKey(
        Place,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="letters",
        db_index=False,  # the (place, status) index below serves it
        help_text="Place of writing, as the source gives it.",
    )
    language = models.CharField(
        max_length=2, choices=LANGUAGES, help_text="Language of the text (ISO 639-1)."
    )
    summary = models.TextField(blank=True, help_text="A short public abstract.")
    transcription = models.TextField(
        help_text="The full text, exactly as in the source document. Never edit: it "
        "is checked against the document's sha256."
    )
    source_file = models.CharField(
        max_length=200, blank=True, help_text="File name of the source document."
    )
    source_sha256 = models.CharField(
        max_length=64,
        blank=True,
        validators=[RegexValidator(r"^[0-9a-f]{64}$", "64 lower-case hex digits.")],
        help_text="SHA-256 of the source document's bytes.",
    )
    status = models.CharField(
        max_length=20,
        choices=ReviewStatus.choices,
        default=ReviewStatus.DRAFT,
        # No index of its own: the status-led indexes below serve every lookup by
        # status (tests/letters/test_indexes.py).
        help_text="Only published letters are public (API and data package).",
    )
    notes = models.TextField(
        blank=True, help_text="Curator notes. Never shown in the API or the package."
    )
    search_text = models.TextField(
        blank=True, editable=False, help_text="Folded title, summary and text."
    )
    names_text = models.TextField(
        blank=True,
        default="",
        editable=False,
        help_text="Folded names of everyone the letter involves, for full-text "
        "search; derived from the roles by letters.search, never edited.",
    )
    synthetic = models.BooleanField(
        default=False,
        editable=False,
        help_text="Generated by generate_corpus for benchmarks; not a real record.",
    )

    objects = LetterQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=["seed_snapshot", "search_text", "names_text"]
    )

    class Meta:
        ordering = ["date_earliest", "identifier"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(title=""), name="letter_title_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=LetterKind.values), name="letter_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReviewStatus.values), name="letter_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(date_certainty__in=DateCertainty.values),
                name="letter_date_certainty_valid",
            ),
            models.CheckConstraint(
                condition=(
                    Q(date="", date_earliest__isnull=True, date_latest__isnull=True)
                    | Q(
                        ~Q(date=""),
                        date_earliest__isnull=False,
                        date_latest__isnull=False,
                        date_earliest__lte=models.F("date_latest"),
                    )
                ),
                name="letter_date_bounds_consistent",
            ),
            models.CheckConstraint(
                condition=Q(source_sha256="")
                | Q(source_sha256__regex=r"^[0-9a-f]{64}$"),
                name="letter_sha256_hex",
            ),
            models.CheckConstraint(
                condition=Q(language__regex=r"^[a-z]{2}$"), name="letter_language_iso"
            ),
        ]
        indexes = [
            # Covering for date windows: "overlaps [a, b]" is date_earliest <= b AND
            # date_latest >= a, answered from the index alone (at 100k letters a
            # window's count fell from 175 ms to 8 ms on SQLite). It also holds the
            # list's whole order (date_earliest, identifier), so a page stops after
            # its last letter: without the tie-break SQLite read and sorted every
            # letter of the first date (all of a year's year-dated letters start on
            # 1 January): the first page's statement ~4 -> ~0.5 ms at 100k
            # letters (docs/benchmarks.md, twentieth session).
            models.Index(
                fields=["status", "date_earliest", "identifier", "date_latest"],
                name="letter_status_dates",
            ),
            models.Index(fields=["date_latest"]),
            # A place's published letters, counted from the index (PlaceQuerySet),
            # and read in the list's order for place= (migration 0026).
            models.Index(
                fields=["place", "status", "date_earliest", "identifier"],
                name="letter_place_status",
            ),
            # kind= and language= count from an index and page in date order
            # without reading the letters' rows (a scan: ~200 ms at 100k letters).
            models.Index(
                fields=["status", "kind", "date_earliest"], name="letter_status_kind"
            ),
            models.Index(
                fields=["status", "language", "date_earliest"],
                name="letter_status_language",
            ),
            # ordering=title pages in the index's order instead of sorting every
            # published letter (437 -> 11 ms at 100k letters on SQLite; the import
            # builds it for ~0.6 CPU-seconds, docs/benchmarks.md).
            models.Index(
                fields=["status", "title", "date_earliest", "identifier"],
                name="letter_status_title",
            ),
            # A window per precision: a day-dated letter overlaps [a, b] when it
            # starts in [a, b], a month-dated one when it starts in [a - 30 days, b]
            # and ends after a, and so on (dates.MAX_SPAN): short ranges of this
            # index instead of every letter that starts before b (LetterFilter).
            models.Index(
                fields=["status", "date_precision", "date_earliest", "date_latest"],
                name="letter_precision_dates",
            ),
            # The published letters' ids: a count of "published letters among
            # these ids" merges two narrow indexes instead of reading the letters'
            # heap (a prolific signatory's count on PostgreSQL at 100k: 230 ms
            # sequential scan -> 19 ms merge of index-only scans). On PostgreSQL it
            # also carries what the kind, year, language and place facets group
            # on, so a filtered set is faceted from the index, not from the 320 MB
            # heap (the largest organisation's year and kind facets at 100k,
            # 296 -> 164 ms; the whole archive's four, 361 -> 118 ms). SQLite has
            # no non-key columns (the index is the plain one there, system check
            # models.W040 silenced in settings): its status-led indexes already
            # serve those facets, and this index widened by the four as key
            # columns made them slower (129 -> 271 ms), docs/benchmarks.md.
            models.Index(
                fields=["id"],
                include=["kind", "date_earliest", "language", "place"],
                condition=Q(status=ReviewStatus.PUBLISHED),
                name="letter_published_ids",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.identifier}: {self.title}"

    def save(self, *args, **kwargs):
        if self.date:
            dates.parse(self.date)  # never store a date the bounds cannot follow
        self.refresh_derived()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)

    @property
    def partial_date(self) -> dates.PartialDate | None:
        return dates.parse(self.date) if self.date else None

    @property
    def year(self) -> int | None:
        if (
            self.date_earliest
            and self.date_latest
            and (self.date_earliest.year == self.date_latest.year)
        ):
            return self.date_earliest.year
        return None

    @property
    def is_public(self) -> bool:
        return self.status == ReviewStatus.PUBLISHED

    def clean(self) -> None:
        self.derive_dates()
        if self.pk:
            stored = (
                Letter.objects.filter(pk=self.pk)
                .values_list("identifier", flat=True)
                .first()
            )
            if stored is not None and stored != self.identifier:
                raise ValidationError(
                    {
                        "identifier": f"The identifier {stored!r} is permanent and "
                        "cannot be changed."
                    }
                )

    def refresh_derived(self) -> None:
        """Dates' bounds and the folded search text (save() and bulk imports)."""
        self.derive_dates()
        self.search_text = fold(
            "\n".join([self.identifier, self.title, self.summary, self.transcription])
        )

    def derive_dates(self) -> None:
        """Set precision and bounds from the normalised date (cheap, no I/O)."""
        try:
            parsed = dates.parse(self.date) if self.date else None
        except dates.PartialDateError:
            return  # clean_fields() reports it; save() refuses below
        if parsed is None:
            self.date_earliest = self.date_latest = None
            self.date_precision = DatePrecision.UNKNOWN
        else:
            self.date = parsed.text
            self.date_earliest, self.date_latest = parsed.earliest, parsed.latest
            self.date_precision = parsed.precision


# A letter's signatories and addressees are found by the (letter, position) unique
# indexes; in place of the foreign key's own (letter) index, a (letter, person,
# organisation) one answers "who is in these letters?" from the index alone (the
# person and organisation facets of a filtered set read every role row of its
# letters: the most prolific signatory's letters, person facet 891 -> 583 ms at
# 100k, docs/benchmarks.md).
LETTER_ENTITIES = ["letter", "person", "organisation"]


class Signatory(Timestamped):
    letter = models.ForeignKey(
        Letter, on_delete=models.CASCADE, related_name="signatories", db_index=False
    )
    position = models.PositiveSmallIntegerField(
        help_text="Order in the signature block, from 1."
    )
    name_as_written = models.CharField(
        max_length=300,
        blank=True,
        help_text="The signature line exactly as the source gives it, OCR noise "
        "included. Never corrected.",
    )
    person = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="signatures",
        db_index=False,  # the (person, letter) index below serves it
        help_text="Who signed. Leave empty only when the signature is unidentified.",
    )
    certainty = models.CharField(
        max_length=20,
        choices=Identification.choices,
        default=Identification.CERTAIN,
        help_text="How sure the identification of the person is.",
    )
    capacity = models.CharField(
        max_length=300,
        blank=True,
        help_text="In what capacity they signed: 'Member of the European Parliament'.",
    )
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="signatures",
        db_index=False,  # the (organisation, letter) index below serves it
        help_text="The organisation signed for, e.g. a political group.",
    )
    identification_note = models.CharField(
        max_length=500,
        blank=True,
        help_text="Public: how the signature was read and identified.",
    )

    history = HistoricalRecords(excluded_fields=["seed_snapshot"])

    class Meta:
        ordering = ["letter", "position"]
        verbose_name_plural = "signatories"
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "position"], name="signatory_position_unique"
            ),
            models.CheckConstraint(
                condition=Q(position__gte=1), name="signatory_position_from_one"
            ),
            models.CheckConstraint(
                condition=Q(certainty__in=Identification.values),
                name="signatory_certainty_valid",
            ),
            # An unidentified signature has no person; an identified one has one.
            models.CheckConstraint(
                condition=Q(certainty="unidentified", person__isnull=True)
                | (~Q(certainty="unidentified") & Q(person__isnull=False)),
                name="signatory_person_matches_certainty",
            ),
            # A signature that names nobody must at least keep what was written.
            models.CheckConstraint(
                condition=Q(person__isnull=False) | ~Q(name_as_written=""),
                name="signatory_unidentified_keeps_text",
            ),
        ]
        # (organisation, letter): the organisation filter reads letter ids from the
        # index alone, and tests "signed for X" per letter with one probe.
        indexes = [
            models.Index(fields=["person", "letter"]),
            models.Index(fields=["organisation", "letter"]),
            models.Index(fields=LETTER_ENTITIES, name="signatory_letter_entities"),
        ]

    def __str__(self) -> str:
        who = self.person or f"unidentified ({self.name_as_written!r})"
        return f"{self.position}. {who}"


class Addressee(Timestamped):
    letter = models.ForeignKey(
        Letter, on_delete=models.CASCADE, related_name="addressees", db_index=False
    )
    role = models.CharField(
        max_length=2, choices=AddresseeRole.choices, default=AddresseeRole.TO
    )
    position = models.PositiveSmallIntegerField(
        help_text="Order in the letter, from 1."
    )
    person = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="addressed",
        db_index=False,  # the (person, role, letter) index below serves it
    )
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="addressed",
        db_index=False,  # the (organisation, role) index below serves it
        help_text="The body addressed, or the person's ministry or office.",
    )
    office_as_written = models.CharField(
        max_length=300,
        blank=True,
        help_text="The office exactly as written: 'Minister of Justice of the "
        "Republic of France'.",
    )
    certainty = models.CharField(
        max_length=20,
        choices=AddresseeCertainty.choices,
        default=AddresseeCertainty.CERTAIN,
        help_text="Inferred when the source names only the office, not the person.",
    )
    identification_note = models.CharField(max_length=500, blank=True)

    history = HistoricalRecords(excluded_fields=["seed_snapshot"])

    class Meta:
        ordering = ["letter", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "position"], name="addressee_position_unique"
            ),
            models.CheckConstraint(
                condition=Q(person__isnull=False) | Q(organisation__isnull=False),
                name="addressee_names_someone",
            ),
            models.CheckConstraint(
                condition=Q(role__in=AddresseeRole.values), name="addressee_role_valid"
            ),
            models.CheckConstraint(
                condition=Q(position__gte=1), name="addressee_position_from_one"
            ),
        ]
        indexes = [
            # Covering "has this person a published letter in this role?" (the
            # persons list's role=to|cc: an index probe per person, no row read).
            models.Index(
                fields=["person", "role", "letter"], name="addressee_person_role_letter"
            ),
            models.Index(fields=["organisation", "role"]),
            # "Is this organisation an addressee of this letter?" from the index
            # alone (the organisation filter's per-letter plan).
            models.Index(
                fields=["organisation", "letter", "role"],
                name="addressee_org_letter_role",
            ),
            models.Index(fields=LETTER_ENTITIES, name="addressee_letter_entities"),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.person or self.organisation}"


class Issuer(Timestamped):
    """The organisation that issued a document (an NGO's open letter or release)."""

    letter = models.ForeignKey(
        Letter,
        on_delete=models.CASCADE,
        related_name="issuers",
        db_index=False,  # the (letter, organisation) unique index serves it
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="issued"
    )

    history = HistoricalRecords(excluded_fields=["seed_snapshot"])

    class Meta:
        ordering = ["letter", "organisation__name"]
        verbose_name = "issuing organisation"
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "organisation"], name="issuer_unique_per_letter"
            ),
        ]

    def __str__(self) -> str:
        return str(self.organisation)


class Mention(Timestamped):
    """A person or organisation that the text names."""

    letter = models.ForeignKey(
        Letter, on_delete=models.CASCADE, related_name="mentions"
    )
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="mentions"
    )
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mentions",
    )
    name_as_written = models.CharField(
        max_length=300,
        blank=True,
        help_text="The first form in which the text names it.",
    )
    certainty = models.CharField(
        max_length=20,
        choices=Identification.choices[:2],
        default=Identification.CERTAIN,
    )
    identification_note = models.CharField(max_length=500, blank=True)

    history = HistoricalRecords(excluded_fields=["seed_snapshot"])

    class Meta:
        ordering = ["letter", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False, organisation__isnull=True)
                | Q(person__isnull=True, organisation__isnull=False),
                name="mention_names_one_entity",
            ),
            models.UniqueConstraint(
                fields=["letter", "person"],
                condition=Q(person__isnull=False),
                name="mention_person_once_per_letter",
            ),
            models.UniqueConstraint(
                fields=["letter", "organisation"],
                condition=Q(organisation__isnull=False),
                name="mention_organisation_once_per_letter",
            ),
        ]

    def __str__(self) -> str:
        return str(self.person or self.organisation)


class LetterCard(models.Model):
    """A letter's list representation, serialized once (derived, never curated).

    The JSON of LetterSerializer for the letter, with site-relative URLs; the letters
    list embeds it as it is instead of attaching and serializing the letter's roles on
    every request (see letters.cards). Exact or absent: every write that changes what
    the card shows rebuilds it in the same transaction, and a letter without a card is
    serialized live, so a missing card costs time, never correctness."""

    letter = models.OneToOneField(
        Letter, on_delete=models.CASCADE, primary_key=True, related_name="card"
    )
    body = models.TextField()

    class Meta:
        verbose_name = "letter card"

    def __str__(self) -> str:
        return f"card of letter {self.letter_id}"
