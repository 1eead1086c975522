"""The guided walkthrough behind `python demo.py`: in-distribution traffic, then drift,
then the loop closing on its own (drift event, job, gate, promotion, new version)."""

from __future__ import annotations

import argparse
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import requests
from rich.console import Console
from rich.progress import Progress
from rich.prompt import Confirm
from rich.rule import Rule
from rich.table import Table

from ml.data.sample import make_dataset
from services.demo.observe import alias_moves_since, drift_events_since, jobs_since, version_metrics
from services.demo.traffic import TrafficClient, TrafficResult, drifted_sample
from shared.config import Settings, load_settings
from shared.database import make_engine

REPO = Path(__file__).resolve().parents[2]
BATCH = 50
console = Console()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Watch ml-pipeline close the loop on drift.")
    parser.add_argument("--yes", action="store_true", help="run without prompts")
    parser.add_argument(
        "--timeout", type=float, default=300, help="seconds the loop may take to close"
    )
    parser.add_argument("--seed", type=int, default=int(time.time()) % 10_000)
    args = parser.parse_args(argv)
    settings = load_settings()
    demo = Walkthrough(settings, assume_yes=args.yes, timeout=args.timeout, seed=args.seed)
    return demo.run()


class Walkthrough:
    def __init__(self, settings: Settings, *, assume_yes: bool, timeout: float, seed: int) -> None:
        self.settings, self.assume_yes, self.timeout, self.seed = (
            settings,
            assume_yes,
            timeout,
            seed,
        )
        self.client = TrafficClient(settings)
        self.engine = make_engine(settings)

    def run(self) -> int:
        console.print(Rule("[bold]ml-pipeline: the self-healing loop, live"))
        if not self.services_ready():
            return 2
        start_version = self.show_champion()
        self.in_distribution()
        closed = self.drift_and_recovery(start_version)
        self.where_to_look()
        return 0 if closed else 1

    # 1 -------------------------------------------------------------------
    def services_ready(self) -> bool:
        section("1. Services")
        if self._ready():
            console.print("All services answer.")
            return True
        console.print("[yellow]The services are not running for this PIPELINE_HOME.")
        if not (
            self.assume_yes
            or Confirm.ask("Start them now with ./run_all_services.sh?", default=True)
        ):
            return False
        subprocess.run([str(REPO / "run_all_services.sh")], check=False)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not self._ready():
            time.sleep(1)
        if not self._ready():
            console.print(
                "[red]The services did not become ready; see the logs under PIPELINE_HOME/logs."
            )
            return False
        return True

    def _ready(self) -> bool:
        urls = [f"{self.client.ingest_url}/health", f"{self.client.predict_url}/ready"]
        try:
            return all(requests.get(url, timeout=2).ok for url in urls)
        except requests.RequestException:
            return False

    # 2 -------------------------------------------------------------------
    def show_champion(self) -> str:
        section("2. The champion")
        model = self.client.model()
        metrics = version_metrics(self.engine, model["name"], str(model["version"]))
        shown = [
            k
            for k in ("roc_auc", "accuracy", "f1", "log_loss")
            if isinstance(metrics.get(k), float)
        ]
        table = Table("model", "version", *[f"{k} (held out)" for k in shown])
        table.add_row(
            str(model["name"]), str(model["version"]), *[f"{metrics[k]:.3f}" for k in shown]
        )
        console.print(table)
        return str(model["version"])

    # 3 -------------------------------------------------------------------
    def in_distribution(self) -> None:
        section("3. Normal traffic: predictions and their true outcomes")
        since = datetime.now(UTC)
        frame = make_dataset(max(self.settings.drift_window_size, 400), "none", seed=self.seed)
        result = self.send_with_progress(frame, "in-distribution traffic")
        console.print(
            f"accuracy on normal traffic: [bold]{result.accuracy:.3f}[/] over {result.total} predictions"
        )
        console.print(
            f"waiting for the drift monitor's next check (every {self.settings.monitor_interval_seconds:.0f}s) ..."
        )
        event = self.wait_for(
            lambda: drift_events_since(self.engine, since),
            self.settings.monitor_interval_seconds * 2 + 30,
        )
        if event:
            last = event[-1]
            verdict = {True: "[red]drift", False: "[green]no drift", None: "[yellow]not testable"}[
                last["dataset_drift"]
            ]
            console.print(
                f"drift check on {last['n_current']} predictions: {verdict}[/] ({last['reason']}); action: {last['action']}"
            )
        else:
            console.print("[yellow]no drift check happened yet; continuing")

    # 4 -------------------------------------------------------------------
    def drift_and_recovery(self, start_version: str) -> bool:
        section(
            "4. Drift arrives: older patients, more smokers, and treatments that work differently"
        )
        since = datetime.now(UTC)
        first_drifted = time.monotonic()
        before = TrafficResult()
        seen: set[str] = set()
        new_version = None
        batch_seed = self.seed + 100
        while time.monotonic() - first_drifted < self.timeout:
            result = self.client.send(drifted_sample(BATCH, batch_seed))
            batch_seed += 1
            if result.versions[0] != start_version:
                new_version = result.versions[0]
                break
            before.correct, before.total = (
                before.correct + result.correct,
                before.total + result.total,
            )
            self.report_progress(since, seen)
            time.sleep(0.5)
        self.report_progress(since, seen)
        if new_version is None:
            console.print(f"[red]The loop did not close within {self.timeout:.0f}s.")
            return False
        recovery = time.monotonic() - first_drifted
        section("5. Recovered")
        after = self.client.send(drifted_sample(400, self.seed + 999), feedback=False)
        table = Table("", "model version", "accuracy on drifted traffic")
        table.add_row("before", start_version, f"{before.accuracy:.3f}")
        table.add_row("after", new_version, f"{after.accuracy:.3f}")
        console.print(table)
        console.print(
            f"time to recovery (first drifted request -> first answer from the new model): [bold]{recovery:.1f}s"
        )
        return True

    def report_progress(self, since: datetime, seen: set[str]) -> None:
        """Print each new drift event, job state and alias move once."""
        for event in drift_events_since(self.engine, since):
            key = f"event:{event['id']}"
            if key not in seen and event["dataset_drift"]:
                seen.add(key)
                top = sorted((event["feature_scores"] or {}).items(), key=lambda kv: -(kv[1] or 0))[
                    :3
                ]
                console.print(
                    f"[red]drift event #{event['id']}[/]: {event['reason']}; top features: "
                    + ", ".join(f"{name} ({score:.2f})" for name, score in top)
                    + f"; action: {event['action']}"
                )
        for job in jobs_since(self.engine, since):
            key = f"job:{job['id']}:{job['status']}"
            if key not in seen:
                seen.add(key)
                console.print(
                    f"training job {job['id'][:8]} ({job['reason']}): [bold]{job['status']}"
                )
                gate = job["gate_decision"] or {}
                if gate:
                    console.print(
                        f"  gate decision: [bold]{gate.get('outcome')}[/] ({gate.get('reason')})"
                    )
                if job["error"]:
                    console.print(f"  error: {job['error']}")
        for move in alias_moves_since(self.engine, since):
            key = f"alias:{move['id']}"
            if key not in seen:
                seen.add(key)
                console.print(
                    f"[green]{move['alias']} -> version {move['version']}[/] ({move['reason']})"
                )

    # 6 -------------------------------------------------------------------
    def where_to_look(self) -> None:
        section("6. Where to look next")
        host = self.settings.host
        console.print(f"Dashboard:  http://{host}:{self.settings.dashboard_port}")
        console.print(f"MLflow UI:  http://{host}:{self.settings.mlflow_ui_port}")
        console.print("CLI:        .venv/bin/mlpipe status | models | drift")

    # helpers -------------------------------------------------------------
    def send_with_progress(self, frame, label: str) -> TrafficResult:  # type: ignore[no-untyped-def]
        total = TrafficResult()
        with Progress(console=console) as progress:
            task = progress.add_task(label, total=len(frame))
            for start in range(0, len(frame), BATCH):
                result = self.client.send(frame.iloc[start : start + BATCH])
                total.correct, total.total = (
                    total.correct + result.correct,
                    total.total + result.total,
                )
                progress.advance(task, result.total)
        return total

    @staticmethod
    def wait_for(fetch, seconds: float):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = fetch()
            if found:
                return found
            time.sleep(1)
        return None


def section(title: str) -> None:
    console.print()
    console.print(Rule(f"[bold cyan]{title}", align="left"))
