"""The archive's controlled vocabularies, shared by the models, the catalogue reader,
the API filters and the data package schema (one definition, many readers)."""

from django.conf import global_settings
from django.db import models

from letters import dates


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"


class LetterKind(models.TextChoices):
    LETTER = "letter", "Letter"
    OPEN_LETTER = "open_letter", "Open letter"
    PRESS_RELEASE = "press_release", "Press release"
    STATEMENT = "statement", "Statement"
    PETITION = "petition", "Petition"
    EMAIL = "email", "E-mail"
    OTHER = "other", "Other"


class DatePrecision(models.TextChoices):
    DAY = dates.DAY, "Day"
    MONTH = dates.MONTH, "Month"
    YEAR = dates.YEAR, "Year"
    RANGE = dates.RANGE, "Range"
    UNKNOWN = "unknown", "Unknown"


class DateCertainty(models.TextChoices):
    CERTAIN = "certain", "Certain (as written in the source)"
    INFERRED = "inferred", "Inferred (from context or other records)"
    APPROXIMATE = "approximate", "Approximate"


class Identification(models.TextChoices):
    CERTAIN = "certain", "Certain"
    PROBABLE = "probable", "Probable"
    UNIDENTIFIED = "unidentified", "Unidentified"


class AddresseeCertainty(models.TextChoices):
    CERTAIN = "certain", "Certain (named in the source)"
    INFERRED = "inferred", "Inferred (office holder on the letter's date)"
    PROBABLE = "probable", "Probable"


class AddresseeRole(models.TextChoices):
    TO = "to", "To"
    CC = "cc", "Copy to (cc)"


class OrganisationKind(models.TextChoices):
    PARLIAMENT = "parliament", "Parliament"
    PARLIAMENTARY_BODY = "parliamentary_body", "Parliamentary committee or delegation"
    POLITICAL_GROUP = "political_group", "Political group"
    POLITICAL_PARTY = "political_party", "Political party"
    GOVERNMENT = "government", "Government"
    MINISTRY = "ministry", "Ministry"
    COURT = "court", "Court"
    INTERNATIONAL = "international_organisation", "International organisation"
    NGO = "ngo", "Non-governmental organisation"
    COMPANY = "company", "Company"
    MEDIA = "media", "Media"
    OTHER = "other", "Other"


class IdentifierScheme(models.TextChoices):
    WIKIDATA = "wikidata", "Wikidata QID"
    EP_MEP = "ep_mep", "European Parliament MEP id"
    VIAF = "viaf", "VIAF"
    ISNI = "isni", "ISNI"
    GND = "gnd", "GND"


#: What a valid identifier of each scheme looks like, enforced in the database too.
IDENTIFIER_PATTERNS: dict[str, str] = {
    "wikidata": r"^Q[1-9][0-9]*$",
    "ep_mep": r"^[1-9][0-9]*$",
    "viaf": r"^[1-9][0-9]*$",
    "isni": r"^[0-9]{15}[0-9X]$",
    "gnd": r"^[0-9X-]{4,12}$",
}

#: ISO 639-1 codes that Django knows (two letters, no regional variants).
LANGUAGES = sorted(
    {(code, name) for code, name in global_settings.LANGUAGES if len(code) == 2}
)
