"""Broken states: no schema yet, and a database that goes away and comes back."""

from __future__ import annotations

from pathlib import Path

import pytest
from dash.exceptions import PreventUpdate
from sqlalchemy.engine import make_url

from dashboards.context import make_context
from dashboards.guard import keep_on_database_error
from dashboards.pages import predictions
from dashboards.queries.status import database_state
from dashboards.sample_history import HistorySpec, seed_history
from dashboards.shell import banner
from shared.config import load_settings
from shared.migrate import upgrade
from tests.integration.dashboard_support import TcpProxy

SMALL = HistorySpec(predictions=300, drift_checks=4, batches=3)


def test_a_database_without_schema_asks_for_migrations(tmp_path: Path) -> None:
    settings = load_settings(
        pipeline_home=tmp_path, database_url=f"sqlite:///{tmp_path / 'fresh.db'}"
    )
    ctx = make_context(settings)
    state = database_state(ctx.engine)
    assert state.reachable and not state.migrated
    children, css = banner(state, 5)
    assert css == "banner warn" and "mlpipe db upgrade" in str(children)
    upgrade(ctx.engine)
    assert database_state(ctx.engine).ok
    assert banner(database_state(ctx.engine), 5) == ("", "banner hidden")


@pytest.mark.postgres
def test_an_outage_shows_a_banner_keeps_the_page_and_recovers(
    postgres_url: str, tmp_path: Path
) -> None:
    direct = make_context(load_settings(pipeline_home=tmp_path, database_url=postgres_url))
    upgrade(direct.engine)
    seed_history(direct.engine, SMALL)
    direct.engine.dispose()
    target = make_url(postgres_url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    proxy.start()
    try:
        settings = load_settings(
            pipeline_home=tmp_path, database_url=proxy.proxied_url(postgres_url)
        )
        ctx = make_context(settings)
        refresh = keep_on_database_error(predictions.update)
        assert refresh(ctx, "1h")  # connected through the proxy

        proxy.stop()
        state = database_state(ctx.engine)
        assert not state.reachable and state.error
        children, css = banner(state, 5)
        assert css == "banner error" and "Database unreachable" in str(children)
        with pytest.raises(PreventUpdate):  # 204: the browser keeps the last charts
            refresh(ctx, "1h")

        proxy.start()
        assert database_state(ctx.engine).ok  # pool_pre_ping replaces the dead connections
        assert refresh(ctx, "1h")
        ctx.engine.dispose()
    finally:
        proxy.stop()
