"""Fed-back labels: how often each version (and the challenger in shadow) was right,
grouped by when the label arrived."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Integer, case, cast, func, select
from sqlalchemy.engine import Connection

from dashboards.queries.sql import epoch_bucket
from shared.database import predictions


class AccuracyRow(NamedTuple):
    epoch: int
    version: str
    n_labelled: int
    n_correct: int
    n_shadow: int
    n_shadow_correct: int
    n_champion_correct_shadowed: int  # the champion on the same rows the challenger shadowed


def _count_where(condition: Any) -> Any:
    return func.sum(cast(case((condition, 1), else_=0), Integer))


def label_outcomes(
    conn: Connection, model_name: str, start: datetime, end: datetime, bucket_seconds: int
) -> list[AccuracyRow]:
    """Outcome counts of labels that arrived in [start, end), per bucket and version.

    This scans every labelled row of the range (through the covering index on
    model_name, label_at): callers cache closed minutes (see label_cache).
    """
    p = predictions
    bucket = epoch_bucket(p.c.label_at, bucket_seconds, conn.dialect.name)
    right = p.c.prediction == p.c.label
    rows = conn.execute(
        select(
            bucket,
            p.c.model_version,
            func.count(),
            _count_where(right),
            func.count(p.c.shadow_prediction),
            _count_where(p.c.shadow_prediction == p.c.label),
            _count_where(p.c.shadow_prediction.is_not(None) & right),
        )
        .where(
            p.c.model_name == model_name,
            p.c.label_at >= start,
            p.c.label_at < end,
            p.c.label.is_not(None),
        )
        .group_by(bucket, p.c.model_version)
    ).all()
    return [AccuracyRow(int(r[0]), str(r[1]), *(int(v or 0) for v in r[2:])) for r in rows]
