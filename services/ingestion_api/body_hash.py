"""Hashes of request content for idempotency: the same content hashes the same
however it was serialised (key order, whitespace, line endings)."""

from __future__ import annotations

import hashlib
import json
import operator
from itertools import repeat
from typing import Any

from ml.validation import NonFinite
from shared.errors import BadRequest


def records_hash(source: str, records: list[Any]) -> str:
    """A hash of the records' content, tagged with the source.

    Records that all have the same keys (the usual case) are hashed column by
    column: the sorted keys, then each key's values as one JSON list. That is
    as canonical as sorting every record's keys and about three times cheaper.
    Anything else is hashed as the whole list with sorted keys.
    """
    digest = hashlib.sha256(f"{source}\n".encode())
    try:
        keys = _shared_keys(records)
        if keys is None:
            digest.update(b"records\n" + _canonical(records))
        else:
            digest.update(b"columns\n" + _canonical(keys))
            for key in keys:
                digest.update(b"\n" + _canonical(list(map(operator.itemgetter(key), records))))
    except RecursionError:  # parsed near the recursion limit, cannot be re-encoded
        raise BadRequest("JSON is nested too deeply") from None
    return digest.hexdigest()


def csv_hash(text: str) -> str:
    """The CSV text with line endings unified and trailing blank lines dropped."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
    return hashlib.sha256(f"csv\n{normalised}".encode()).hexdigest()


def _shared_keys(records: list[Any]) -> list[str] | None:
    """The sorted keys every record has, when all are objects with the same keys."""
    if not records or not all(map(isinstance, records, repeat(dict))):
        return None
    first = records[0].keys()
    # operator.eq compares dict key views as sets, at C speed.
    if not all(map(operator.eq, repeat(first), map(dict.keys, records))):
        return None
    return sorted(first)


def _canonical(value: Any) -> bytes:
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_literal
    )
    return text.encode()


def _literal(value: Any) -> Any:
    if isinstance(value, NonFinite):
        return {"$literal": value.literal}  # NaN/Infinity are rejected later, but hash stably
    raise TypeError(f"cannot hash a {type(value).__name__}")
