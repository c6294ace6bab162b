"""CSV for every list: flat columns, one row per record. Multi-valued cells (several
signatories, addressees…) are joined with " | " in their order; a person or organisation
is written by name. The columns are declared by each view (csv_columns)."""

import csv
import io

from rest_framework.renderers import BaseRenderer

MULTI_SEPARATOR = " | "


class Echo:
    """A file-like object whose write returns the line (for streaming csv)."""

    def write(self, value):
        return value


class ArchiveCSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        view = (renderer_context or {}).get("view")
        columns = getattr(view, "csv_columns", None)
        if data is None:
            return b""
        if isinstance(data, dict) and "results" in data:
            rows = data["results"]
        elif isinstance(data, list):
            rows = data
        else:
            rows = [data]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if not columns:
            keys = list(rows[0]) if rows else []
            columns = [(key, lambda row, key=key: row.get(key)) for key in keys]
        writer.writerow([name for name, _ in columns])
        for row in rows:
            writer.writerow([cell(getter(row)) for _, getter in columns])
        return out.getvalue().encode("utf-8")


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def names(items, key="name") -> str:
    return MULTI_SEPARATOR.join(str(item[key]) for item in items if item)


def ref_name(ref) -> str:
    return ref["name"] if ref else ""
