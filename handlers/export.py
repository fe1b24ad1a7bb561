"""Records as JSON or CSV, safe to open in a spreadsheet; each feature supplies its rows (see its Export)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any


def as_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may run as a formula (OWASP)


def cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: a risky first character is prefixed with a single quote.

    Lists and objects (benchmarks, evidence) go in one cell as JSON, so the file stays rectangular.
    """
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + value
    return value


def as_csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """One row per record, every cell safe to open in Excel, Sheets or LibreOffice."""
    buffer = io.StringIO()
    # RFC 4180 line ends, so a carriage return inside a cell is quoted too
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: cell(v) for k, v in row.items()})
    return buffer.getvalue()
