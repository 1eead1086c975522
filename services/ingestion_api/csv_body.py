"""A `text/csv` request body as a frame of text cells, or a named 4xx.

The standard csv module (C code) rather than pandas.read_csv: pandas pads short
rows with NaN silently and renames duplicate columns, both of which must be
rejected here.
"""

from __future__ import annotations

import csv
import io
from collections import Counter

import pandas as pd

from shared.errors import BadRequest
from shared.http import check_record_count

MAX_REPORTED_ROWS = 20


def parse_csv(body: bytes, *, max_records: int) -> tuple[str, pd.DataFrame]:
    """(decoded text, frame with the header's columns and every cell as str)."""
    if not body.strip():
        raise BadRequest("request body is empty")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("CSV body is not UTF-8") from None
    if "\x00" in text:  # PostgreSQL cannot store NUL characters in text
        raise BadRequest("NUL characters cannot be stored; remove them")
    try:
        lines = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    except csv.Error as exc:
        raise BadRequest(f"malformed CSV: {exc}") from None
    if not lines:
        raise BadRequest("request body is empty")
    header, rows = [name.strip() for name in lines[0]], lines[1:]
    _check_header(header)
    check_record_count(len(rows), max_records)
    _check_row_lengths(rows, len(header))
    return text, pd.DataFrame(rows, columns=header, dtype=object)


def _check_header(header: list[str]) -> None:
    blank = [i for i, name in enumerate(header) if not name]
    if blank:
        raise BadRequest("CSV header has empty column names", {"columns": blank, "header_line": 1})
    duplicates = sorted(name for name, n in Counter(header).items() if n > 1)
    if duplicates:
        raise BadRequest(
            f"CSV header repeats column names: {', '.join(d[:100] for d in duplicates)}",
            {"duplicates": [d[:100] for d in duplicates]},
        )


def _check_row_lengths(rows: list[list[str]], width: int) -> None:
    ragged = [i for i, row in enumerate(rows) if len(row) != width]
    if ragged:
        shown = ragged[:MAX_REPORTED_ROWS]
        raise BadRequest(
            f"{len(ragged)} CSV rows do not have the header's {width} fields "
            f"(first at record {ragged[0]}, which has {len(rows[ragged[0]])})",
            {
                "expected_fields": width,
                "ragged_records": shown,
                "ragged_count": len(ragged),
            },
        )
