"""The package's README.md for researchers, generated from the descriptor (itself
generated from fields.py): what the archive is, each file and field, the licence, how
to cite, the version."""

from __future__ import annotations


def _constraints(field: dict) -> str:
    c = field.get("constraints", {})
    parts = []
    if c.get("required"):
        parts.append("required")
    if c.get("unique"):
        parts.append("unique")
    if "enum" in c:
        parts.append("one of " + ", ".join(f"`{v}`" for v in c["enum"]))
    if "pattern" in c:
        parts.append(f"pattern `{c['pattern']}`")
    if "minimum" in c:
        parts.append(f"≥ {c['minimum']}")
    return "; ".join(parts)


def render(descriptor: dict, rows: dict[str, int]) -> str:
    year = descriptor["created"][:4]
    licence = descriptor["licenses"][0]
    lines = [
        f"# {descriptor['title']}",
        "",
        f"Version **{descriptor['version']}**, data as of {descriptor['created']}.",
        "",
        descriptor["description"],
        "",
        "## Files",
        "",
        "| file | rows | what it holds |",
        "|---|---|---|",
    ]
    for resource in descriptor["resources"]:
        lines.append(
            f"| `{resource['path']}` | {rows.get(resource['name'], 0)} | "
            f"{resource['description']} |"
        )
    lines += [
        "",
        "`datapackage.json` describes every file with a Table Schema (types, "
        "constraints, primary and foreign keys), its size in bytes and its SHA-256. "
        "Validate the whole package with `frictionless validate datapackage.json`.",
        "",
        "CSV files are UTF-8 without a byte-order mark, comma-separated, with a header "
        "row and a line feed after each row (RFC 4180 quoting: a cell holding a comma, "
        "a double quote, a line feed or a carriage return is enclosed in double "
        "quotes, its quotes doubled); an empty cell means no value. Dates are ISO "
        "8601; partial dates (`2015`, `2015-05`, `2015-05-18`, or an interval `A/B`) "
        "are kept as text beside their earliest and latest possible days. Links "
        "between files use the stable keys (`identifier` of letters, `key` of the "
        "others).",
        "",
        "```python",
        "import pandas as pd",
        "letters = pd.read_csv('data/letters.csv', keep_default_na=False, "
        "na_values=[''], parse_dates=['updated'])",
        "```",
        "",
        "## Fields",
        "",
    ]
    for resource in descriptor["resources"]:
        schema = resource["schema"]
        lines += [
            f"### {resource['name']} (`{resource['path']}`)",
            "",
            resource["description"],
            "",
            f"Primary key: {', '.join(schema['primaryKey'])}.",
        ]
        for fk in schema.get("foreignKeys", []):
            target = fk["reference"]["resource"] or resource["name"]
            lines.append(
                f"Foreign key: {', '.join(fk['fields'])} → {target}."
                f"{', '.join(fk['reference']['fields'])}."
            )
        lines += [
            "",
            "| field | type | description | constraints |",
            "|---|---|---|---|",
        ]
        for f in schema["fields"]:
            lines.append(
                f"| `{f['name']}` | {f['type']} | {f['description']} | "
                f"{_constraints(f)} |"
            )
        lines.append("")
    lines += [
        "## Sources",
        "",
        *[f"- `{s['path']}` ({s['hash']})" for s in descriptor.get("sources", [])],
        "",
        "## Licence",
        "",
        f"The data are published under {licence['title']} ({licence['name']}, "
        f"{licence['path']}). The transcribed documents remain the work of their "
        "authors.",
        "",
        "## How to cite",
        "",
        f"Letters archive curators ({year}). *{descriptor['title']}* "
        f"(version {descriptor['version']}) [Data set]. {descriptor['homepage']}",
        "",
        "## Versions",
        "",
        "Semantic versioning: a new field or file raises the minor version, a removed "
        "or renamed one the major version, a change of the data the patch version.",
        "",
    ]
    return "\n".join(lines)
