"""A running instance of the whole loop, for the end-to-end test and bench_recovery.py.

Starts what run_all_services.sh starts for the loop (ingestion API and prediction
service under gunicorn, drift monitor, retraining worker), each in a process
group of its own, in a PIPELINE_HOME of its own with free ports; talks to it over
HTTP the way a client does; stops it with the signals stop_all_services.sh uses
(SIGTERM everywhere).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
OWN_VARIABLES = ("DATABASE_URL", "REDIS_URL", "REDIS_PREFIX", "MLFLOW_TRACKING_URI", "MODEL_NAME",
                 "API_KEY", "PIPELINE_HOME")  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], Any], timeout: float, every: float = 0.2) -> Any:
    """The first truthy value of `condition()`, or None after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    return None


def records_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON records: NaN (not allowed in JSON) becomes null, a missing value."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")  # type: ignore[return-value]


@dataclass
class Answers:
    versions: list[str]
    ids: list[str]
    predictions: list[str]
    first_at: dict[str, float] = field(default_factory=dict)  # version -> first answer (monotonic)

    def accuracy(self, labels: pd.Series) -> float:
        return float((pd.Series(self.predictions, index=labels.index) == labels.astype(str)).mean())


@dataclass
class LoopInstance:
    home: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @classmethod
    def create(cls, home: Path, **variables: str) -> LoopInstance:
        """An instance rooted at `home`; `variables` are environment settings (upper case)."""
        home.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in OWN_VARIABLES}
        env.update(
            PIPELINE_HOME=str(home),
            INGESTION_API_PORT=str(free_port()),
            PREDICTION_SERVICE_PORT=str(free_port()),
            PATH=f"{BIN}:{os.environ.get('PATH', '')}",
            MODEL_NAME="",
            LOG_FORMAT="json",
        )
        env.update(variables)
        return cls(home, env)

    @property
    def ingestion_url(self) -> str:
        return f"http://127.0.0.1:{self.env['INGESTION_API_PORT']}"

    @property
    def prediction_url(self) -> str:
        return f"http://127.0.0.1:{self.env['PREDICTION_SERVICE_PORT']}"

    def mlpipe(self, *args: str, timeout: float = 600) -> str:
        result = subprocess.run(
            [str(BIN / "mlpipe"), *args], cwd=self.home, env=self.env,
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"mlpipe {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    # ---- processes -------------------------------------------------------------
    def start(self, timeout: float = 180) -> None:
        gunicorn = [str(BIN / "gunicorn"), "-c", "python:shared.gunicorn_conf"]
        for name, port, threads, app in (
            ("ingestion_api", self.env["INGESTION_API_PORT"], 4, "services.ingestion_api.app:create_wsgi_app()"),
            ("prediction_service", self.env["PREDICTION_SERVICE_PORT"], 16, "services.prediction_service.app:create_wsgi_app()"),
        ):  # fmt: skip
            prometheus = self.home / "run" / "prometheus" / name
            prometheus.mkdir(parents=True, exist_ok=True)
            self._spawn(name, [*gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "1",
                               "--threads", str(threads), app], PROMETHEUS_MULTIPROC_DIR=str(prometheus))  # fmt: skip
        python = str(BIN / "python")
        self._spawn("drift_monitor", [python, "-m", "services.drift_monitor.monitor"])
        self._spawn("retraining_worker", [python, "-m", "services.retraining_worker.worker"])
        ready = wait_until(lambda: self._ok("/health", self.ingestion_url) and self._ok("/ready", self.prediction_url), timeout)  # fmt: skip
        if not ready:
            raise RuntimeError(f"services did not become ready:\n{self.logs()}")

    def _spawn(self, name: str, command: list[str], **extra: str) -> None:
        log = (self.home / "logs").joinpath(f"{name}.out")
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            self.processes[name] = subprocess.Popen(
                command, cwd=ROOT, env={**self.env, **extra}, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        (self.home / "run").mkdir(exist_ok=True)
        (self.home / "run" / f"{name}.pid").write_text(str(self.processes[name].pid))

    def stop(self, timeout: float = 60) -> dict[str, int | None]:
        """SIGTERM to every process group (what stop_all_services.sh sends); SIGKILL after timeout."""
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        codes: dict[str, int | None] = {}
        for name, process in self.processes.items():
            try:
                codes[name] = process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                codes[name] = None
            (self.home / "run" / f"{name}.pid").unlink(missing_ok=True)
        return codes

    def logs(self, lines: int = 40) -> str:
        parts = []
        for path in sorted((self.home / "logs").glob("*.out")):
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path.name}\n" + "\n".join(tail))
        return "\n".join(parts)

    # ---- a client --------------------------------------------------------------
    def predict(self, frame: pd.DataFrame, batch: int = 1000) -> Answers:
        answers = Answers([], [], [])
        records = records_of(frame)
        with requests.Session() as session:
            for start in range(0, len(records), batch):
                response = session.post(f"{self.prediction_url}/predict/batch",
                                        json={"records": records[start:start + batch]}, timeout=120)  # fmt: skip
                response.raise_for_status()
                body = response.json()
                version = str(body["model"]["version"])
                answers.first_at.setdefault(version, time.monotonic())
                for item in body["predictions"]:
                    answers.versions.append(version)
                    answers.ids.append(item["prediction_id"])
                    answers.predictions.append(str(item["prediction"]))
        return answers

    def feedback(self, ids: list[str], labels: pd.Series, batch: int = 5000) -> None:
        items = [
            {"prediction_id": i, "label": str(label)} for i, label in zip(ids, labels, strict=True)
        ]
        with requests.Session() as session:
            for start in range(0, len(items), batch):
                response = session.post(f"{self.ingestion_url}/feedback",
                                        json={"labels": items[start:start + batch]}, timeout=120)  # fmt: skip
                response.raise_for_status()
                assert response.json()["matched"] == len(items[start : start + batch]), (
                    response.text
                )

    def served_version(self) -> str | None:
        try:
            return str(requests.get(f"{self.prediction_url}/model", timeout=5).json()["version"])
        except (requests.RequestException, KeyError, ValueError):
            return None

    @staticmethod
    def _ok(path: str, base: str) -> bool:
        try:
            return requests.get(f"{base}{path}", timeout=2).status_code == 200
        except requests.RequestException:
            return False
