"""A fingerprint of a training set: how many rows, from when, and a hash of the content.

Two trainings with the same fingerprint saw the same data, so a registered
version can be traced back to (and compared with) its training set.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd


def content_hash(frame: pd.DataFrame, labels: pd.Series) -> str:
    """SHA-256 over column names, row-wise value hashes and labels (order-sensitive)."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    label_text = labels.astype(object).where(labels.notna(), "").astype(str)
    digest.update(pd.util.hash_pandas_object(label_text, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def data_fingerprint(
    frame: pd.DataFrame, labels: pd.Series, times: pd.Series | None = None
) -> dict[str, Any]:
    """rows, label counts, time range (ISO 8601 or None) and content hash."""
    start = end = None
    if times is not None and len(times) and times.notna().any():
        start, end = times.min().isoformat(), times.max().isoformat()
    counts = labels.value_counts().sort_index()
    return {
        "rows": len(frame),
        "columns": len(frame.columns),
        "label_counts": {str(k): int(v) for k, v in counts.items()},
        "time_start": start,
        "time_end": end,
        "content_hash": content_hash(frame, labels),
    }
