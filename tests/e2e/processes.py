"""Helpers for end-to-end tests that start the product's real processes."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def instance_env(home: Path, **extra: str) -> dict[str, str]:
    """Environment of an independent instance: its own home and free ports."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "MLFLOW_TRACKING_URI", "MODEL_NAME", "API_KEY")
    }
    env.update(
        PIPELINE_HOME=str(home),
        INGESTION_API_PORT=str(free_port()),
        PREDICTION_SERVICE_PORT=str(free_port()),
        DASHBOARD_PORT=str(free_port()),
        MLFLOW_UI_PORT=str(free_port()),
        PATH=f"{REPO / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
    )
    env.update(extra)
    return env


def run_script(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


def pid_files(home: Path) -> dict[str, int]:
    return {p.stem: int(p.read_text().strip()) for p in (home / "run").glob("*.pid")}


def group_alive(pgid: int) -> bool:
    return subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True).returncode == 0
