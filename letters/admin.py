"""Curation in the Django admin: thin adapters over the models and services.

Searches on persons and organisations ignore accents and case ("jonas fernandez"
finds "Jonás Fernández") by matching folded terms against a folded search column.
Every change is kept in the record's history (django-simple-history).
"""

from __future__ import annotations

import re

from django.contrib import admin, messages
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from letters import services
from letters.models import (
    Addressee,
    ExternalIdentifier,
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
from letters.querysets import organisation_role_q
from letters.text import fold
from letters.vocabularies import ReviewStatus

admin.site.site_header = "Letters archive: curation"
admin.site.site_title = "Letters archive"
admin.site.index_title = "Curation"


class FoldedSearchMixin:
    """Accent- and case-insensitive search over the model's folded search_text, plus
    the ordinary search_fields."""

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(
            request, queryset, search_term
        )
        terms = fold(search_term).split()
        if terms:
            folded = queryset.model.objects.all()
            for term in terms:
                folded = folded.filter(search_text__contains=term)
            queryset = queryset | self.get_queryset(request).filter(
                pk__in=folded.values("pk")
            )
        return queryset, may_have_duplicates


def _admin_link(obj) -> str:
    url = reverse(
        f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk]
    )
    return format_html('<a href="{}">{}</a>', url, obj)


def _letter_list(rows) -> str:
    rows = list(rows)
    if not rows:
        return "—"
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            '<li><a href="{}">{}</a> ({}, {})</li>',
            (
                (
                    reverse("admin:letters_letter_change", args=[letter.pk]),
                    letter,
                    letter.date or "undated",
                    letter.get_status_display(),
                )
                for letter in rows
            ),
        ),
    )


# --- letters ------------------------------------------------------------------------


class SignatoryInline(admin.TabularInline):
    model = Signatory
    extra = 0
    fields = [
        "position",
        "name_as_written",
        "person",
        "certainty",
        "capacity",
        "organisation",
        "identification_note",
    ]
    autocomplete_fields = ["person", "organisation"]
    ordering = ["position"]


class AddresseeInline(admin.TabularInline):
    model = Addressee
    extra = 0
    fields = [
        "position",
        "role",
        "person",
        "organisation",
        "office_as_written",
        "certainty",
        "identification_note",
    ]
    autocomplete_fields = ["person", "organisation"]
    ordering = ["position"]


class IssuerInline(admin.TabularInline):
    model = Issuer
    extra = 0
    fields = ["organisation"]
    autocomplete_fields = ["organisation"]


class MentionInline(admin.TabularInline):
    model = Mention
    extra = 0
    fields = [
        "person",
        "organisation",
        "name_as_written",
        "certainty",
        "identification_note",
    ]
    autocomplete_fields = ["person", "organisation"]


class YearFilter(admin.SimpleListFilter):
    title = "year"
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = (
            Letter.objects.exclude(date_earliest=None)
            .dates("date_earliest", "year")
            .order_by("-date_earliest")
        )
        return [(str(d.year), str(d.year)) for d in years]

    def queryset(self, request, queryset):
        value = self.value()
        if value and re.fullmatch(r"[0-9]{1,18}", value):
            year = int(value)
            return queryset.filter(
                date_earliest__year__lte=year, date_latest__year__gte=year
            )
        return queryset


class OrganisationFilter(admin.SimpleListFilter):
    title = "organisation (any role)"
    parameter_name = "organisation"

    def lookups(self, request, model_admin):
        return [(str(o.pk), str(o)) for o in Organisation.objects.all()]

    def queryset(self, request, queryset):
        value = self.value()
        if value and re.fullmatch(r"[0-9]{1,18}", value):
            return queryset.filter(organisation_role_q([int(value)]))
        return queryset


@admin.register(Letter)
class LetterAdmin(SimpleHistoryAdmin):
    list_display = ["identifier", "date", "kind", "title", "place", "status"]
    list_display_links = ["identifier", "title"]
    list_filter = [
        "kind",
        "status",
        YearFilter,
        "place",
        OrganisationFilter,
        "language",
    ]
    search_fields = [
        "identifier",
        "title",
        "summary",
        "transcription",
        "signatories__name_as_written",
        "signatories__person__display_name",
        "addressees__person__display_name",
    ]
    date_hierarchy = "date_earliest"
    list_select_related = ["place"]
    ordering = ["date_earliest", "identifier"]
    inlines = [SignatoryInline, AddresseeInline, IssuerInline, MentionInline]
    actions = ["publish", "send_to_review", "unpublish"]
    readonly_fields = [
        "date_precision",
        "date_earliest",
        "date_latest",
        "source_file",
        "source_sha256",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["identifier", "title", "kind", "status"]}),
        (
            "Date and place",
            {
                "fields": [
                    "date_as_written",
                    "date",
                    "date_certainty",
                    ("date_precision", "date_earliest", "date_latest"),
                    "place",
                    "language",
                ]
            },
        ),
        ("Content", {"fields": ["summary", "transcription"]}),
        ("Source", {"fields": ["source_file", "source_sha256"]}),
        ("Curation", {"fields": ["notes", "created_at", "updated_at"]}),
    ]

    def get_search_results(self, request, queryset, search_term):
        """Also find letters through the folded names of the people involved, so
        'jonas fernandez' finds the letter Jonás Fernández signed."""
        queryset, dup = super().get_search_results(request, queryset, search_term)
        terms = fold(search_term).split()
        if terms:
            people = Person.objects.all()
            for term in terms:
                people = people.filter(search_text__contains=term)
            ids = people.values("pk")
            queryset = queryset | self.get_queryset(request).filter(
                Q(signatories__person__in=ids)
                | Q(addressees__person__in=ids)
                | Q(mentions__person__in=ids)
            )
            dup = True
        return queryset, dup

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("identifier")  # permanent once assigned
            if obj.source_sha256:
                fields.append("transcription")  # owned by the source document
        return fields

    def _set_status(self, request, queryset, status):
        changed = sum(
            services.letter_set_status(letter=letter, status=status, actor=request.user)
            for letter in queryset
        )
        self.message_user(
            request,
            f"{changed} letter(s) set to {ReviewStatus(status).label.lower()}; "
            f"{queryset.count() - changed} already were.",
            messages.SUCCESS,
        )

    @admin.action(description="Publish the selected letters", permissions=["change"])
    def publish(self, request, queryset):
        self._set_status(request, queryset, ReviewStatus.PUBLISHED)

    @admin.action(
        description="Send the selected letters to review", permissions=["change"]
    )
    def send_to_review(self, request, queryset):
        self._set_status(request, queryset, ReviewStatus.IN_REVIEW)

    @admin.action(description="Unpublish (back to draft)", permissions=["change"])
    def unpublish(self, request, queryset):
        self._set_status(request, queryset, ReviewStatus.DRAFT)


# --- persons and organisations -------------------------------------------------------


class IdentifierInline(admin.TabularInline):
    model = ExternalIdentifier
    extra = 0
    fields = ["scheme", "value", "link"]
    readonly_fields = ["link"]

    @admin.display(description="link")
    def link(self, obj):
        if obj.pk:
            return format_html('<a href="{0}" rel="noopener">{0}</a>', obj.url)
        return "—"


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = [
        "key",
        "organisation",
        "post",
        "role",
        "start",
        "end",
        "attested_by",
        "status",
    ]
    autocomplete_fields = ["organisation", "post", "attested_by"]
    fk_name = "person"
    show_change_link = True


@admin.register(Person)
class PersonAdmin(FoldedSearchMixin, SimpleHistoryAdmin):
    list_display = ["display_name", "sort_name", "country", "description"]
    list_filter = ["country"]
    search_fields = ["key", "display_name", "sort_name", "other_names"]
    ordering = ["sort_name"]
    inlines = [IdentifierInline, MembershipInline]
    readonly_fields = [
        "signed_letters",
        "received_letters",
        "mentioned_in_letters",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "key",
                    "display_name",
                    "sort_name",
                    "other_names",
                    "honorific",
                    "country",
                    "description",
                ]
            },
        ),
        ("Contact (curators only, never public)", {"fields": ["email", "telephone"]}),
        (
            "Letters",
            {"fields": ["signed_letters", "received_letters", "mentioned_in_letters"]},
        ),
        ("Curation", {"fields": ["notes", "created_at", "updated_at"]}),
    ]

    @admin.display(description="signed")
    def signed_letters(self, obj):
        return _letter_list(Letter.objects.filter(signatories__person=obj).distinct())

    @admin.display(description="received (to or cc)")
    def received_letters(self, obj):
        return _letter_list(Letter.objects.filter(addressees__person=obj).distinct())

    @admin.display(description="mentioned in")
    def mentioned_in_letters(self, obj):
        return _letter_list(Letter.objects.filter(mentions__person=obj).distinct())


@admin.register(Organisation)
class OrganisationAdmin(FoldedSearchMixin, SimpleHistoryAdmin):
    list_display = ["name", "acronym", "kind", "country", "parent"]
    list_filter = ["kind", "country"]
    search_fields = ["key", "name", "acronym", "other_names"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]
    inlines = [IdentifierInline]
    readonly_fields = [
        "issued_letters",
        "signed_for_letters",
        "received_letters",
        "mentioned_in_letters",
        "members",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "key",
                    "name",
                    "acronym",
                    "other_names",
                    "kind",
                    "country",
                    "parent",
                ]
            },
        ),
        ("Contact (curators only, never public)", {"fields": ["email", "telephone"]}),
        (
            "Letters",
            {
                "fields": [
                    "issued_letters",
                    "signed_for_letters",
                    "received_letters",
                    "mentioned_in_letters",
                ]
            },
        ),
        ("Members and office holders", {"fields": ["members"]}),
        ("Curation", {"fields": ["notes", "created_at", "updated_at"]}),
    ]

    @admin.display(description="issued")
    def issued_letters(self, obj):
        return _letter_list(Letter.objects.filter(issuers__organisation=obj))

    @admin.display(description="signed for")
    def signed_for_letters(self, obj):
        return _letter_list(
            Letter.objects.filter(signatories__organisation=obj).distinct()
        )

    @admin.display(description="received (to or cc)")
    def received_letters(self, obj):
        return _letter_list(
            Letter.objects.filter(addressees__organisation=obj).distinct()
        )

    @admin.display(description="mentioned in")
    def mentioned_in_letters(self, obj):
        return _letter_list(Letter.objects.filter(mentions__organisation=obj))

    @admin.display(description="members")
    def members(self, obj):
        rows = obj.memberships.select_related("person", "post")
        if not rows:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>{}</li>", ((_admin_link(m),) for m in rows)),
        )


@admin.register(Place)
class PlaceAdmin(SimpleHistoryAdmin):
    list_display = ["name", "country", "wikidata"]
    search_fields = ["key", "name"]


@admin.register(Post)
class PostAdmin(SimpleHistoryAdmin):
    list_display = ["label", "role", "organisation"]
    search_fields = ["key", "label", "role"]
    autocomplete_fields = ["organisation"]


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["person", "role", "organisation", "post", "start", "end", "status"]
    list_filter = ["status", "organisation__kind", "role"]
    search_fields = [
        "key",
        "person__display_name",
        "organisation__name",
        "post__label",
        "role",
    ]
    list_select_related = ["person", "organisation", "post"]
    autocomplete_fields = ["person", "organisation", "post", "attested_by"]
    readonly_fields = ["start_date", "end_date"]


@admin.register(Signatory)
class SignatoryAdmin(SimpleHistoryAdmin):
    """All signatures across letters: where curators review identifications."""

    list_display = ["letter", "position", "name_as_written", "person", "certainty"]
    list_filter = ["certainty"]
    search_fields = ["name_as_written", "person__display_name", "letter__identifier"]
    list_select_related = ["letter", "person"]
    autocomplete_fields = ["letter", "person", "organisation"]

    def get_search_results(self, request, queryset, search_term):
        queryset, dup = super().get_search_results(request, queryset, search_term)
        terms = fold(search_term).split()
        if terms:
            q = Q()
            for term in terms:
                q &= Q(person__search_text__contains=term)
            queryset = queryset | self.get_queryset(request).filter(q)
        return queryset, dup
