"""Logged predictions and their per-minute rollups, generated minute by minute so
the two always agree (the prediction service keeps the same invariant)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
from sqlalchemy.engine import Engine

from dashboards.sample_history.bulk import bulk_insert
from dashboards.sample_history.features import feature_records, sample_columns
from dashboards.sample_history.story import CLASSES, Story
from shared.database import prediction_minutes, predictions, write_transaction
from shared.rollup import LATENCY_BUCKETS_MS

ROWS_PER_CHUNK = 20_000
SHADOW_VERSION = "3"
SHADOW_AGREEMENT = 0.91


def minute_counts(
    rng: np.random.Generator, story: Story, total: int
) -> tuple[np.ndarray, np.ndarray]:
    """(minute start epochs, predictions per minute) summing exactly to total, with a daily wave."""
    first = int(story.start.timestamp()) // 60 * 60 + 60
    minutes = np.arange(first, int((story.start + story.span).timestamp()) - 59, 60)
    weights = 1 + 0.3 * np.sin(2 * np.pi * (minutes % 86400) / 86400)
    return minutes, rng.multinomial(total, weights / weights.sum())


def _chunks(minutes: np.ndarray, counts: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    cumulative = np.cumsum(counts)
    start = 0
    while start < len(minutes):
        base = cumulative[start - 1] if start else 0
        stop = max(int(np.searchsorted(cumulative, base + ROWS_PER_CHUNK, side="right")), start + 1)
        yield minutes[start:stop], counts[start:stop]
        start = stop


def _other(values: np.ndarray) -> np.ndarray:
    return np.where(values == CLASSES[0], CLASSES[1], CLASSES[0])


def _stamps(epochs: np.ndarray) -> list[datetime]:
    return [datetime.fromtimestamp(e, UTC) for e in epochs.tolist()]


def _rollups(
    model_name: str,
    minute: np.ndarray,
    version: np.ndarray,
    latency: np.ndarray,
    label: np.ndarray,
    shadowed: np.ndarray,
    agree: np.ndarray,
) -> list[dict]:
    """One prediction_minutes row per (minute, version), as the prediction service keeps them."""
    keys, first, group = np.unique(
        np.char.add(minute.astype(str), version.astype(str)), return_index=True, return_inverse=True
    )
    size = len(keys)
    buckets = np.zeros((size, len(LATENCY_BUCKETS_MS) + 1), dtype=np.int64)
    np.add.at(buckets, (group, np.searchsorted(LATENCY_BUCKETS_MS, latency, side="left")), 1)
    n = np.bincount(group, minlength=size)
    latency_sum = np.bincount(group, weights=latency, minlength=size)
    per_class = {c: np.bincount(group, weights=label == c, minlength=size) for c in CLASSES}
    shadow_n = np.bincount(group, weights=shadowed, minlength=size)
    shadow_agree = np.bincount(group, weights=agree, minlength=size)
    return [
        {
            "model_name": model_name,
            "model_version": str(version[first[g]]),
            "minute": datetime.fromtimestamp(int(minute[first[g]]), UTC),
            "n": int(n[g]),
            "latency_sum_ms": float(latency_sum[g]),
            "latency_buckets": buckets[g].tolist(),
            "class_counts": {c: int(per_class[c][g]) for c in CLASSES if per_class[c][g]},
            "shadow_n": int(shadow_n[g]),
            "shadow_agree": int(shadow_agree[g]),
        }
        for g in range(size)
    ]


def write_traffic(
    engine: Engine,
    story: Story,
    model_name: str,
    total: int,
    label_share: float,
    now: datetime,
    rng: np.random.Generator,
) -> int:
    """Insert `total` predictions and their rollups; returns how many labels were fed back."""
    minutes, counts = minute_counts(rng, story, total)
    labels_fed = 0
    for chunk_minutes, chunk_counts in _chunks(minutes, counts):
        minute = np.repeat(chunk_minutes, chunk_counts)
        n = len(minute)
        created = minute + rng.random(n) * 60
        f = story.fraction(created)
        version = story.serving_version(f)
        prediction = np.where(rng.random(n) < story.yes_share(f), *CLASSES)
        truth = np.where(rng.random(n) < story.accuracy(f), prediction, _other(prediction))
        label_at = created + rng.uniform(30, 900, n)
        labelled = (rng.random(n) < label_share) & (label_at < now.timestamp())
        latency = rng.lognormal(np.log(3.2), 0.45, n)
        shadowed = story.shadowing(f)
        agree = shadowed & (rng.random(n) < SHADOW_AGREEMENT)
        shadow_prediction = np.where(agree, prediction, _other(prediction))
        p_yes = np.where(prediction == CLASSES[0], rng.beta(8, 2, n), rng.beta(2, 8, n)).round(4)
        features = feature_records(rng, sample_columns(rng, story.shift_a(f), story.shift_b(f)))
        created_at, labelled_at = _stamps(created), _stamps(label_at)
        rollups = _rollups(model_name, minute, version, latency, prediction, shadowed, agree)
        # Plain Python values from here on (drivers and JSON want them).
        version_, prediction_, truth_ = version.tolist(), prediction.tolist(), truth.tolist()
        shadow_, shadowed_, labelled_ = (
            shadow_prediction.tolist(),
            shadowed.tolist(),
            labelled.tolist(),
        )
        p_yes_, latency_ = p_yes.tolist(), latency.round(3).tolist()
        rows = [
            {
                "id": str(uuid.uuid4()),
                "created_at": created_at[i],
                "model_name": model_name,
                "model_version": version_[i],
                "features": features[i],
                "prediction": prediction_[i],
                "probabilities": {CLASSES[0]: p_yes_[i], CLASSES[1]: round(1 - p_yes_[i], 4)},
                "latency_ms": latency_[i],
                "endpoint": "predict",
                "shadow_version": SHADOW_VERSION if shadowed_[i] else None,
                "shadow_prediction": shadow_[i] if shadowed_[i] else None,
                "label": truth_[i] if labelled_[i] else None,
                "label_at": labelled_at[i] if labelled_[i] else None,
            }
            for i in range(n)
        ]
        with write_transaction(engine) as conn:
            bulk_insert(conn, predictions, rows)
            bulk_insert(conn, prediction_minutes, rollups)
        labels_fed += int(labelled.sum())
    return labels_fed
