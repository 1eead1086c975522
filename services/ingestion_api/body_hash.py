"""Hashes of request content for idempotency: the same content hashes the same
however it was serialised (key order, whitespace, line endings)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ml.validation import NonFinite
from shared.errors import BadRequest


def records_hash(source: str, records: list[Any]) -> str:
    """Canonical JSON of the records (sorted keys, no whitespace), tagged with the source."""
    try:
        canonical = json.dumps(
            records,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            default=_literal,
        )
    except RecursionError:  # parsed near the recursion limit, cannot be re-encoded
        raise BadRequest("JSON is nested too deeply") from None
    return _sha256(f"{source}\n{canonical}".encode())


def csv_hash(text: str) -> str:
    """The CSV text with line endings unified and trailing blank lines dropped."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
    return _sha256(f"csv\n{normalised}".encode())


def _literal(value: Any) -> Any:
    if isinstance(value, NonFinite):
        return {"$literal": value.literal}  # NaN/Infinity are rejected later, but hash stably
    raise TypeError(f"cannot hash a {type(value).__name__}")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
