"""Benchmark the drift engine against Evidently's DataDriftPreset and a plain scipy baseline.

Data: N reference + N current rows of 20 numeric and 5 categorical columns (1% missing in
two of them), in three variants: "drift" (num_00 shifted by 0.5 sd, num_07 scaled by 1.5,
cat_2's two most frequent categories swapped), "none" (fresh draw of the same process) and
"tiny" (every numeric column shifted by 0.02 sd). Every measurement runs in a subprocess of
its own, so its peak memory (VmHWM, reset after the data is built) is its alone.

Evidently 0.7 needs pandas<3, so it lives in a separate environment, never in .venv:

    python3.11 -m venv .venv-bench && .venv-bench/bin/pip install -r requirements-bench.txt

Run from the repository root with the product environment:

    .venv/bin/python scripts/bench_drift.py                  # 100k and 1M rows, ~6 minutes
    .venv/bin/python scripts/bench_drift.py --sizes 100000   # ~1 minute
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

NUMERIC = [f"num_{i:02d}" for i in range(20)]
CATEGORICAL = [f"cat_{j}" for j in range(5)]
DRIFTED = ["num_00", "num_07", "cat_2"]
TOOLS = ("engine", "scipy", "evidently")
ROOT = Path(__file__).resolve().parent.parent


def make_frames(rows: int, variant: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current frames; the same (rows, variant) gives the same data anywhere."""
    return _draw(rows, seed=1, variant="none"), _draw(rows, seed=2, variant=variant)


def _draw(rows: int, seed: int, variant: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {}
    for i, name in enumerate(NUMERIC):
        family = i % 5
        if family == 0:
            values, spread = rng.normal(10.0 * i, 1.0 + i, rows), 1.0 + i
        elif family == 1:
            values, spread = rng.lognormal(1.0, 0.5, rows), 1.5
        elif family == 2:
            values, spread = rng.uniform(0.0, 100.0, rows), 28.9
        elif family == 3:
            values, spread = rng.exponential(5.0, rows), 5.0
        else:
            values, spread = rng.poisson(4.0, rows).astype(float), 2.0
        if variant == "drift" and name == "num_00":
            values = values + 0.5 * spread
        if variant == "drift" and name == "num_07":
            values = values * 1.5
        if variant == "tiny":
            values = values + 0.02 * spread
        columns[name] = values
    for j, name in enumerate(CATEGORICAL):
        names = np.array([f"{name}_v{k}" for k in range(3 + 2 * j)], dtype=object)
        weights = 0.6 ** np.arange(names.size)
        if variant == "drift" and name == "cat_2":
            weights[[0, 1]] = weights[[1, 0]]
        codes = rng.choice(names.size, rows, p=weights / weights.sum())
        columns[name] = pd.Series(names[codes], dtype=object)  # shared string objects
    frame = pd.DataFrame(columns)
    frame.loc[rng.random(rows) < 0.01, "num_03"] = np.nan
    frame.loc[rng.random(rows) < 0.01, "cat_1"] = None
    return frame


class PeakMemory:
    """Peak resident memory of this process since `reset`, in MB (Linux VmHWM)."""

    def reset(self) -> float:
        with contextlib.suppress(OSError):  # not Linux: the peak then covers the whole run
            Path("/proc/self/clear_refs").write_text("5")
        return self._status("VmRSS")

    def peak(self) -> float:
        return self._status("VmHWM")

    @staticmethod
    def _status(field: str) -> float:
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_engine(reference: pd.DataFrame, current: pd.DataFrame, repeat: int) -> dict:
    from ml.evaluation import DriftDetector, ReferenceProfile

    memory, result = PeakMemory(), {}
    base = memory.reset()
    fit_times = []
    for _ in range(repeat):
        started = time.perf_counter()
        profile = ReferenceProfile.fit(reference, numeric=NUMERIC, categorical=CATEGORICAL)
        fit_times.append(time.perf_counter() - started)
    result.update(fit_seconds=min(fit_times), fit_peak_mb=memory.peak() - base)
    result["profile_kb"] = len(json.dumps(profile.to_dict())) / 1024
    base = memory.reset()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        report = DriftDetector().compare(profile, current)
        times.append(time.perf_counter() - started)
    result.update(seconds=min(times), base_mb=base, peak_mb=memory.peak())
    result.update(flagged=report.drifted_features, dataset_drift=report.dataset_drift)
    return result


def run_scipy(reference: pd.DataFrame, current: pd.DataFrame, repeat: int) -> dict:
    from scipy import stats

    memory, times = PeakMemory(), []
    base = memory.reset()
    for _ in range(repeat):
        started, flagged = time.perf_counter(), []
        for name in NUMERIC:
            ref, cur = reference[name].dropna().to_numpy(), current[name].dropna().to_numpy()
            if stats.ks_2samp(ref, cur).pvalue < 0.05:
                flagged.append(name)
        for name in CATEGORICAL:
            table = pd.concat(
                [reference[name].value_counts(), current[name].value_counts()], axis=1
            ).fillna(0)
            if stats.chi2_contingency(table.to_numpy().T).pvalue < 0.05:
                flagged.append(name)
        times.append(time.perf_counter() - started)
    return dict(seconds=min(times), base_mb=base, peak_mb=memory.peak(), flagged=flagged)


def run_evidently(reference: pd.DataFrame, current: pd.DataFrame, repeat: int) -> dict:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    memory = PeakMemory()
    base = memory.reset()
    started = time.perf_counter()
    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    snapshot = Report([DataDriftPreset()]).run(
        reference_data=Dataset.from_pandas(reference, data_definition=definition),
        current_data=Dataset.from_pandas(current, data_definition=definition),
    )
    metrics = snapshot.dict()["metrics"]
    seconds = time.perf_counter() - started
    flagged, dataset_drift = [], None
    for metric in metrics:
        config, value = metric["config"], metric["value"]
        if config["type"].endswith("ValueDrift"):
            is_p_value = "p_value" in config["method"]
            drifted = value < config["threshold"] if is_p_value else value >= config["threshold"]
            flagged += [config["column"]] if drifted else []
        elif config["type"].endswith("DriftedColumnsCount"):
            dataset_drift = value["share"] >= config["drift_share"]
    return dict(
        seconds=seconds,
        base_mb=base,
        peak_mb=memory.peak(),
        flagged=flagged,
        dataset_drift=dataset_drift,
    )


def worker(tool: str, rows: int, variant: str, repeat: int) -> None:
    reference, current = make_frames(rows, variant)
    runner = {"engine": run_engine, "scipy": run_scipy, "evidently": run_evidently}[tool]
    result = runner(reference, current, repeat)
    result.update(tool=tool, rows=rows, variant=variant)
    print(json.dumps(result))


def measure(python: str, tool: str, rows: int, variant: str, repeat: int) -> dict:
    command = [python, str(Path(__file__).resolve()), "--worker", tool]
    command += ["--rows", str(rows), "--variant", variant, "--repeat", str(repeat)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return dict(tool=tool, rows=rows, variant=variant, error=done.stderr.strip()[-400:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def plan(args: argparse.Namespace) -> list[tuple[str, str, int, str]]:
    runs = []
    evidently = Path(args.evidently_python) if args.evidently_python else None
    for rows in args.sizes:
        for variant in args.variants:
            runs.append((sys.executable, "engine", rows, variant))
            runs.append((sys.executable, "scipy", rows, variant))
            if evidently and (variant == "drift" or rows <= args.evidently_controls_up_to):
                runs.append((str(evidently), "evidently", rows, variant))
    return runs


def summarise(results: list[dict]) -> None:
    print(
        f"\n{'rows':>9} {'variant':7} {'tool':9} {'fit s':>7} {'compare s':>9} "
        f"{'peak MB':>8} {'+MB':>7}  flagged"
    )
    for r in results:
        if "error" in r:
            print(f"{r['rows']:>9} {r['variant']:7} {r['tool']:9} ERROR {r['error']}")
            continue
        fit = f"{r['fit_seconds']:.2f}" if "fit_seconds" in r else "-"
        print(
            f"{r['rows']:>9} {r['variant']:7} {r['tool']:9} {fit:>7} {r['seconds']:>9.3f} "
            f"{r['peak_mb']:>8.0f} {r['peak_mb'] - r['base_mb']:>7.0f}  {r['flagged']}"
        )
    by_key = {(r["tool"], r["rows"], r["variant"]): r for r in results if "error" not in r}
    print()
    for rows in sorted({r["rows"] for r in results}):
        engine = by_key.get(("engine", rows, "drift"))
        if not engine:
            continue
        for other in ("evidently", "scipy"):
            peer = by_key.get((other, rows, "drift"))
            if peer:
                print(
                    f"{rows:>9} rows: engine compare is {peer['seconds'] / engine['seconds']:.0f}x"
                    f" faster than {other}; peak memory {engine['peak_mb']:.0f} MB vs"
                    f" {peer['peak_mb']:.0f} MB ({engine['peak_mb'] / peer['peak_mb']:.2f})"
                )
        for variant, expected in (("drift", DRIFTED), ("none", []), ("tiny", [])):
            run = by_key.get(("engine", rows, variant))
            if run:
                verdict = "ok" if sorted(run["flagged"]) == sorted(expected) else "WRONG"
                print(f"{rows:>9} rows: engine flagged {run['flagged']} on {variant}: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", default="100000,1000000", type=lambda s: [int(v) for v in s.split(",")]
    )
    parser.add_argument("--variants", default="drift,none,tiny", type=lambda s: s.split(","))
    parser.add_argument(
        "--evidently-python",
        default=str(ROOT / ".venv-bench/bin/python"),
        help="python of the benchmark venv; empty to skip Evidently",
    )
    parser.add_argument(
        "--evidently-controls-up-to",
        type=int,
        default=100_000,
        help="run Evidently on the none/tiny variants only up to this size",
    )
    parser.add_argument("--repeat", type=int, default=3, help="best of N for engine and scipy")
    parser.add_argument("--json", help="also write every result to this file")
    parser.add_argument("--worker", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.rows, args.variant, args.repeat)
        return
    if args.evidently_python and not Path(args.evidently_python).exists():
        print(f"no {args.evidently_python}: skipping Evidently (see the docstring to create it)")
        args.evidently_python = ""
    results = []
    for python, tool, rows, variant in plan(args):
        print(f"running {tool} on {rows:,} + {rows:,} rows ({variant})...", flush=True)
        results.append(measure(python, tool, rows, variant, args.repeat))
    summarise(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
