"""Time every dashboard callback on a big database (SQLite and/or PostgreSQL).

Fills a fresh database with 1,000,000 predictions (+ their per-minute rollups) and
1,000 drift checks over 7 days (the dashboards.sample_history story, bulk inserts),
then calls each page's callback function directly, many times per time range, and
prints p50 / max in milliseconds. Goal: every callback under 300 ms.

    .venv/bin/python scripts/bench_dashboard.py                       # both backends
    .venv/bin/python scripts/bench_dashboard.py --backend sqlite --predictions 100000
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta

from bench_support import scratch_database
from sqlalchemy import text

from dashboards.context import make_context
from dashboards.pages import data, drift, jobs, models, overview, predictions
from dashboards.queries.status import database_state
from dashboards.sample_history import HistorySpec, seed_history
from dashboards.warmup import MemoWarmer
from shared.config import load_settings
from shared.migrate import upgrade

GOAL_MS = 300
RANGES = ("1h", "24h", "7d", "30d")


def timed(call: Callable[[], object], repeat: int, forget: Callable[[], None]) -> tuple[float, ...]:
    """(cold ms, warm p50 ms, warm max ms): cold is the first call with an empty memo of
    final buckets, what the dashboard's warmer pays in the background; warm is a refresh."""
    forget()
    started = time.perf_counter()
    call()
    cold = (time.perf_counter() - started) * 1000
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return cold, statistics.median(samples), max(samples)


def callbacks(ctx) -> list[tuple[str, Callable[[], object]]]:  # type: ignore[no-untyped-def]
    """Every callback's work, by page and time range."""
    latest = drift.update(ctx, "30d")[2]
    event_id = latest[0]["value"] if latest else None
    plan: list[tuple[str, Callable[[], object]]] = [
        ("status banner", lambda: database_state(ctx.engine)),
        ("overview", lambda: overview.update(ctx)),
        ("overview health", lambda: overview.health_rows(ctx)),
        ("models", lambda: models.update(ctx)),
        ("drift event detail", lambda: drift.detail(ctx, event_id, None)),
    ]
    for key in RANGES:
        plan += [
            (f"predictions {key}", lambda key=key: predictions.update(ctx, key)),
            (f"drift {key}", lambda key=key: drift.update(ctx, key)),
            (f"jobs {key}", lambda key=key: jobs.update(ctx, key)),
            (f"data {key}", lambda key=key: data.update(ctx, key)),
        ]
    return plan


def run(backend: str, args: argparse.Namespace) -> list[tuple[str, float, float, float]]:
    with scratch_database(backend, args.postgres_admin_url, prefix="mlpipe_bench_dashboard") as url:
        settings = load_settings(
            pipeline_home=tempfile.mkdtemp(prefix="bench-home-"), database_url=url
        )
        ctx = make_context(settings)
        upgrade(ctx.engine)
        spec = HistorySpec(
            span=timedelta(days=args.span_days),
            predictions=args.predictions,
            drift_checks=args.drift_checks,
            batches=args.span_days * 288,
            label_share=0.3,
        )
        started = time.perf_counter()
        seed_history(ctx.engine, spec)
        with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE" if backend == "postgresql" else "ANALYZE"))
        print(
            f"[{backend}] filled {args.predictions:,} predictions, {args.drift_checks:,} drift "
            f"checks over {args.span_days} days in {time.perf_counter() - started:.0f} s"
        )
        callbacks(ctx)[1][1]()  # first use of the code paths (imports, statement cache)
        started = time.perf_counter()
        MemoWarmer(ctx).refresh_once()
        print(
            f"[{backend}] background warm-up of every page and range: "
            f"{time.perf_counter() - started:.1f} s"
        )
        results = [
            (name, *timed(call, args.repeat, lambda: ctx.buckets.clear()))
            for name, call in callbacks(ctx)
        ]
        ctx.engine.dispose()
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--predictions", type=int, default=1_000_000)
    parser.add_argument("--drift-checks", type=int, default=1_000)
    parser.add_argument("--span-days", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--postgres-admin-url",
        default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    results = {backend: run(backend, args) for backend in backends}
    names = [row[0] for row in results[backends[0]]]
    header = "callback".ljust(22) + "".join(f"{b + ' cold / p50 / max ms':>34}" for b in backends)
    print("\n" + header + "\n" + "-" * len(header))
    worst_warm = worst_cold = 0.0
    for i, name in enumerate(names):
        cells = []
        for backend in backends:
            _, cold, p50, peak = results[backend][i]
            worst_warm, worst_cold = max(worst_warm, p50), max(worst_cold, cold)
            cells.append(f"{cold:>9.1f} / {p50:>7.1f} / {peak:>7.1f}")
        print(name.ljust(22) + "".join(f"{cell:>34}" for cell in cells))
    verdict = "met" if worst_warm < GOAL_MS else "NOT met"
    print(
        f"\nslowest warm p50 {worst_warm:.1f} ms (goal {GOAL_MS} ms: {verdict}); "
        f"slowest cold call {worst_cold:.1f} ms"
    )


if __name__ == "__main__":
    main()
