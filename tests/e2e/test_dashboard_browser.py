"""The dashboard as an operator sees it: gunicorn serving it over a database filled
through the table contract, every page opened in a real headless Chromium, key
numbers checked against the database, charts rendered, a clean console, live
refresh, a database outage and its recovery. Screenshots go to test-artifacts/."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine, make_url

from dashboards.sample_history import HistorySpec, seed_history
from dashboards.time_range import resolve_window
from shared.database import (
    drift_events,
    ingestion_batches,
    model_registry,
    prediction_minutes,
    training_jobs,
    write_transaction,
)
from shared.database import predictions as predictions_table
from shared.migrate import upgrade
from tests.e2e.processes import REPO, instance_env
from tests.integration.dashboard_support import TcpProxy

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO / "test-artifacts" / "dashboard"
SPEC = HistorySpec(predictions=3_000, drift_checks=20, batches=25)
WAIT_MS = 20_000


def chromium_or_skip() -> str:
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if path:
        return path
    reason = "chromium is not installed (scripts/ensure_browser.sh installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason + "; CI=true requires the browser test to run")
    pytest.skip(reason)


@dataclass
class Server:
    url: str
    process: subprocess.Popen

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


@dataclass
class Dashboard:
    server: Server
    engine: Engine
    backend: str
    proxy: TcpProxy | None

    @property
    def url(self) -> str:
        return self.server.url


def start_dashboard(home: Path, database_url: str, **env_extra: str) -> Server:
    """gunicorn serving the dashboard of an instance at `home`, as run_all_services.sh does."""
    env = instance_env(home, DATABASE_URL=database_url, DASHBOARD_REFRESH_SECONDS="2", **env_extra)
    port = env["DASHBOARD_PORT"]
    log = (home / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [
            str(REPO / ".venv" / "bin" / "gunicorn"),
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "1",
            "--threads",
            "4",
            "dashboards.monitoring_app:create_wsgi_app()",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok:
                return Server(f"http://127.0.0.1:{port}", process)
        except requests.RequestException:
            time.sleep(0.3)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError(f"dashboard did not start: {(home / 'gunicorn.log').read_text()[-2000:]}")


class _Healthy(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def ingestion_api() -> Iterator[int]:
    """A stand-in answering GET /health, so the health panel shows an HTTP probe up."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Healthy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture(scope="module")
def dashboard(
    database_url: str,
    migrated_engine: Engine,
    ingestion_api: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Dashboard]:
    chromium_or_skip()
    seed_history(migrated_engine, SPEC, end=datetime.now(UTC) - timedelta(minutes=1))
    home = tmp_path_factory.mktemp("dashboard-home")
    (home / "run").mkdir()
    (home / "run" / "drift_monitor.pid").write_text(str(os.getpid()))  # a live process
    backend = make_url(database_url).get_backend_name()
    proxy = None
    if backend == "postgresql":  # the dashboard reaches PostgreSQL through a cuttable proxy
        target = make_url(database_url)
        proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
        proxy.start()
    url = proxy.proxied_url(database_url) if proxy else database_url
    server = start_dashboard(home, url, INGESTION_API_PORT=str(ingestion_api))
    dashboard = Dashboard(server, migrated_engine, backend, proxy)
    yield dashboard
    dashboard.server.stop()
    if proxy:
        proxy.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_or_skip(), args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def browser_context(browser: object, dashboard: Dashboard) -> Iterator[object]:
    """One browser profile per backend, so the scripts are fetched and cached once."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})  # type: ignore[attr-defined]
    yield context
    context.close()


@pytest.fixture
def page(browser_context: object, dashboard: Dashboard) -> Iterator[object]:
    """A fresh tab; afterwards: no console error, no request left the dashboard."""
    tab = browser_context.new_page()  # type: ignore[attr-defined]
    problems: list[str] = []
    tab.on(
        "console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None
    )
    tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    tab.on(
        "request",
        lambda r: (
            None
            if r.url.startswith(dashboard.url)
            else problems.append(f"external request: {r.url}")
        ),
    )
    yield tab
    tab.close()
    assert problems == []


def number(tab: object, kpi: str) -> float:
    text = tab.locator(f"#{kpi}").inner_text()  # type: ignore[attr-defined]
    return float(text.replace(",", "").rstrip("%"))


def visit(tab: object, dashboard: Dashboard, path: str, ready: list[str]) -> None:
    tab.goto(dashboard.url + path)  # type: ignore[attr-defined]
    for selector in ready:
        tab.wait_for_selector(selector, timeout=WAIT_MS)  # type: ignore[attr-defined]


def charts_drawn(tab: object, graph_ids: list[str]) -> None:
    for graph_id in graph_ids:
        layer = (
            f"#{graph_id} .main-svg :is(.scatterlayer .trace, .barlayer .trace, .heatmaplayer *)"
        )
        tab.wait_for_selector(layer, timeout=WAIT_MS, state="attached")  # type: ignore[attr-defined]


def screenshot(tab: object, dashboard: Dashboard, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.wait_for_timeout(500)  # type: ignore[attr-defined]
    tab.screenshot(path=str(ARTIFACTS / f"{dashboard.backend}-{name}.png"), full_page=True)  # type: ignore[attr-defined]


def scalar(engine: Engine, query: object) -> float:
    with engine.connect() as conn:
        return float(conn.execute(query).scalar_one() or 0)  # type: ignore[arg-type]


def window_start(key: str = "1h") -> datetime:
    return resolve_window(key, datetime.now(UTC)).start


def test_overview(page: object, dashboard: Dashboard) -> None:
    visit(page, dashboard, "/", ["#kpi-predictions-hour", "#health-list"])
    charts_drawn(page, ["overview-per-minute"])
    expected = scalar(
        dashboard.engine,
        select(func.sum(prediction_minutes.c.n)).where(
            prediction_minutes.c.minute >= window_start()
        ),
    )
    assert number(page, "kpi-predictions-hour") == expected == SPEC.predictions
    with dashboard.engine.connect() as conn:
        rows = conn.execute(select(model_registry.c.version, model_registry.c.aliases)).all()
    champion = next(version for version, aliases in rows if "champion" in aliases)
    assert page.locator("#kpi-champion-version").inner_text() == f"v{champion}"  # type: ignore[attr-defined]
    status = {
        item.inner_text().split("\n")[0]: item.get_attribute("data-status")
        for item in page.locator("#health-list li").all()
    }  # type: ignore[attr-defined]
    assert status["Database"] == status["Ingestion API"] == status["Drift monitor"] == "up"
    assert status["Prediction service"] == "down" and status["Retraining worker"] == "down"
    screenshot(page, dashboard, "overview")


def test_predictions(page: object, dashboard: Dashboard) -> None:
    visit(page, dashboard, "/predictions", ["#kpi-predictions-total"])
    charts_drawn(
        page, ["pred-rate", "pred-latency", "pred-class-mix", "pred-accuracy", "pred-shadow"]
    )
    p = predictions_table.c
    labelled = (p.label_at >= window_start()) & p.label.is_not(None)
    right = scalar(
        dashboard.engine, select(func.count()).where(labelled & (p.prediction == p.label))
    )
    total = scalar(dashboard.engine, select(func.count()).where(labelled))
    assert number(page, "kpi-predictions-total") == SPEC.predictions
    assert number(page, "kpi-accuracy") == round(100 * right / total, 1)
    screenshot(page, dashboard, "predictions")


def test_drift(page: object, dashboard: Dashboard) -> None:
    visit(page, dashboard, "/drift", ["#kpi-drift-checks", "#drift-event-headline"])
    charts_drawn(page, ["drift-heatmap", "drift-distribution"])
    checks = scalar(
        dashboard.engine, select(func.count()).where(drift_events.c.created_at >= window_start())
    )
    latest = scalar(dashboard.engine, select(func.max(drift_events.c.id)))
    assert number(page, "kpi-drift-checks") == checks == SPEC.drift_checks
    assert f"event #{int(latest)} " in page.locator("#drift-event-headline").inner_text()  # type: ignore[attr-defined]
    assert page.locator("#drift-feature-stats-table tr").count() > 5  # type: ignore[attr-defined]
    screenshot(page, dashboard, "drift")


def test_models(page: object, dashboard: Dashboard) -> None:
    visit(page, dashboard, "/models", ["#kpi-model-versions", "#models-versions-table"])
    charts_drawn(page, ["models-metric", "models-champion-timeline"])
    versions = scalar(dashboard.engine, select(func.count()).select_from(model_registry))
    assert number(page, "kpi-model-versions") == versions
    assert page.locator("#models-versions-table tbody tr").count() == versions  # type: ignore[attr-defined]
    assert page.locator("#models-history-table tbody tr").count() >= 1  # type: ignore[attr-defined]
    screenshot(page, dashboard, "models")


def test_jobs(page: object, dashboard: Dashboard) -> None:
    visit(page, dashboard, "/jobs", ["#kpi-jobs-total", "#jobs-table-rows"])
    charts_drawn(page, ["jobs-timeline"])
    jobs = scalar(dashboard.engine, select(func.count()).select_from(training_jobs))
    assert number(page, "kpi-jobs-total") == jobs
    assert page.locator("#jobs-table-rows tbody tr").count() == jobs  # type: ignore[attr-defined]
    assert "dead" in page.locator("#jobs-table-rows").inner_text()  # type: ignore[attr-defined]
    screenshot(page, dashboard, "jobs")


def test_data(page: object, dashboard: Dashboard) -> None:
    visit(page, dashboard, "/data", ["#kpi-data-accepted", "#data-dataset-table"])
    charts_drawn(page, ["data-ingestion"])
    accepted = scalar(
        dashboard.engine,
        select(func.sum(ingestion_batches.c.accepted)).where(
            ingestion_batches.c.received_at >= window_start()
        ),
    )
    assert number(page, "kpi-data-accepted") == accepted
    screenshot(page, dashboard, "data")


def test_time_range_and_live_refresh(page: object, dashboard: Dashboard) -> None:
    visit(page, dashboard, "/predictions", ["#kpi-predictions-total"])
    page.get_by_text("24h", exact=True).click()  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => document.body.innerText.includes('PREDICTIONS, LAST 24 HOURS')"
        " || document.body.innerText.includes('Predictions, last 24 hours')",
        timeout=WAIT_MS,
    )
    before = number(page, "kpi-predictions-total")
    with write_transaction(dashboard.engine) as conn:  # traffic arrives while we watch
        conn.execute(
            insert(prediction_minutes),
            {
                "model_name": "lung_disease",
                "model_version": "2",
                "minute": datetime.now(UTC).replace(second=0, microsecond=0),
                "n": 9,
                "latency_sum_ms": 27.0,
                "latency_buckets": [0, 0, 9] + [0] * 16,
                "class_counts": {"Yes": 9},
                "shadow_n": 0,
                "shadow_agree": 0,
            },
        )
    page.wait_for_function(  # type: ignore[attr-defined]
        f"() => document.querySelector('#kpi-predictions-total').innerText.replace(/,/g, '')"
        f" == '{int(before) + 9}'",
        timeout=WAIT_MS,
    )


def test_outage_shows_a_banner_and_recovers(page: object, dashboard: Dashboard) -> None:
    if dashboard.proxy is None:
        pytest.skip("SQLite is a local file: there is no server to lose (PostgreSQL run covers it)")
    visit(page, dashboard, "/", ["#kpi-predictions-hour"])
    dashboard.proxy.stop()
    try:
        page.wait_for_selector("#banner.error", timeout=WAIT_MS)  # type: ignore[attr-defined]
        assert "Database unreachable" in page.locator("#banner").inner_text()  # type: ignore[attr-defined]
        assert page.locator("#kpi-predictions-hour").is_visible()  # type: ignore[attr-defined]
        screenshot(page, dashboard, "outage")
    finally:
        dashboard.proxy.start()
    page.wait_for_selector("#banner.hidden", state="attached", timeout=WAIT_MS)  # type: ignore[attr-defined]


def test_fresh_install_guides_the_operator(
    browser: object, database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the fresh install is the zero-services default: SQLite")
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    server = start_dashboard(tmp_path, fresh)
    context = browser.new_context(viewport={"width": 1440, "height": 900})  # type: ignore[attr-defined]
    try:
        tab = context.new_page()
        tab.goto(server.url + "/")
        tab.wait_for_selector("#banner.warn", timeout=WAIT_MS)
        assert "mlpipe db upgrade" in tab.locator("#banner").inner_text()
        from shared.config import load_settings
        from shared.database import make_engine

        engine = make_engine(load_settings(pipeline_home=tmp_path, database_url=fresh))
        upgrade(engine)  # what run_all_services.sh does first
        engine.dispose()
        tab.wait_for_selector("#getting-started", timeout=WAIT_MS)
        tab.wait_for_selector("#banner.hidden", state="attached", timeout=WAIT_MS)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / "sqlite-fresh-install.png"), full_page=True)
    finally:
        context.close()
        server.stop()
