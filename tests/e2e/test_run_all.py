"""The newcomer's path: ./run_all_services.sh, python demo.py --yes, ./stop_all_services.sh."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.e2e.processes import REPO, group_alive, instance_env, pid_files, run_script

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]

LOOP_SETTINGS = {
    "MONITOR_INTERVAL_SECONDS": "4",
    "DRIFT_WINDOW_SIZE": "300",
    "DRIFT_MIN_SAMPLES": "100",
    "RETRAIN_COOLDOWN_SECONDS": "30",
    "START_TIMEOUT": "180",
}


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("postgres+redis", marks=[pytest.mark.postgres, pytest.mark.redis]),
    ]
)
def instance(request, tmp_path: Path) -> dict[str, str]:
    extra = dict(LOOP_SETTINGS)
    if request.param != "embedded":
        make_db = request.getfixturevalue("postgres_url_factory")
        extra.update(
            DATABASE_URL=make_db(),
            MLFLOW_TRACKING_URI=make_db(),
            REDIS_URL=request.getfixturevalue("redis_url"),
            REDIS_PREFIX=f"{request.getfixturevalue('redis_prefix')}:runall",
        )
    env = instance_env(tmp_path / "home", **extra)
    yield env
    run_script(["./stop_all_services.sh"], env, timeout=120)


def test_run_demo_stop(instance: dict[str, str]) -> None:
    env = instance
    home = Path(env["PIPELINE_HOME"])
    started = run_script(["./run_all_services.sh"], env, timeout=600)
    assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
    assert "ml-pipeline is running" in started.stdout

    host = "http://127.0.0.1"
    for url in (
        f"{host}:{env['INGESTION_API_PORT']}/health",
        f"{host}:{env['PREDICTION_SERVICE_PORT']}/health",
        f"{host}:{env['PREDICTION_SERVICE_PORT']}/ready",
        f"{host}:{env['DASHBOARD_PORT']}/",
    ):
        assert requests.get(url, timeout=10).status_code == 200, url
    if "MLFLOW_TRACKING_URI" not in env:
        assert requests.get(f"{host}:{env['MLFLOW_UI_PORT']}/health", timeout=10).status_code == 200

    readme = run_script(["./scripts/check_readme.sh"], env, timeout=300)
    assert readme.returncode == 0, readme.stdout[-3000:] + readme.stderr[-3000:]
    assert_api_doc_lists_every_operation(env)

    again = run_script(["./run_all_services.sh"], env, timeout=300)
    assert again.returncode == 0 and "already running" in again.stdout
    pids = pid_files(home)
    assert set(pids) >= {
        "ingestion_api",
        "prediction_service",
        "drift_monitor",
        "retraining_worker",
        "dashboard",
    }

    demo = run_script(
        [str(REPO / ".venv/bin/python"), "demo.py", "--yes", "--timeout", "300"], env, timeout=600
    )
    assert demo.returncode == 0, demo.stdout[-5000:] + demo.stderr[-3000:]
    assert "time to recovery" in demo.stdout

    stopped = run_script(["./stop_all_services.sh"], env, timeout=180)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not any(group_alive(pid) for pid in pids.values())
    assert pid_files(home) == {}


def assert_api_doc_lists_every_operation(env: dict[str, str]) -> None:
    """docs/API.md must name every operation of both live OpenAPI documents."""
    api_doc = (REPO / "docs" / "API.md").read_text()
    for port in (env["INGESTION_API_PORT"], env["PREDICTION_SERVICE_PORT"]):
        spec = requests.get(f"http://127.0.0.1:{port}/openapi.json", timeout=10).json()
        for path, operations in spec["paths"].items():
            for method in operations:
                assert f"`{method.upper()} {path}`" in api_doc, (
                    f"{method.upper()} {path} missing from docs/API.md"
                )
