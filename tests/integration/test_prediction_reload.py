"""Hot reload and shadow scoring against a real registry, on SQLite and PostgreSQL:
the champion alias moves under load with zero failed requests; a challenger's output is
logged next to the champion's; a Redis signal makes the switch immediate."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from ml.schema import normalize_frame
from registry import CHALLENGER, CHAMPION, ModelRegistry
from shared.config import Settings
from shared.database import prediction_minutes, predictions
from shared.signals import publish_model_changed
from tests.integration.ingestion_support import metric_value
from tests.integration.prediction_support import (
    MODEL,
    init_model,
    move_alias,
    register,
    running_service,
    sample_records,
    service_settings,
    trained,
    wait_until,
)

RECORDS = sample_records(20, seed=41)


@pytest.fixture(scope="module")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return service_settings(tmp_path_factory.mktemp("home"), database_url, reload_poll_seconds=0.5)


@pytest.fixture(scope="module")
def versions(settings: Settings, migrated_engine: Engine) -> dict[str, str]:
    """v1 champion (logistic regression), v2 a random forest, v3 a second forest."""
    v1 = init_model(settings, migrated_engine, trained())
    v2 = register(settings, migrated_engine, trained("random_forest"))
    v3 = register(settings, migrated_engine, trained("random_forest", seed=6))
    return {"lr": v1, "forest": v2, "forest2": v3}


@pytest.fixture
def url(settings: Settings, migrated_engine: Engine, versions: dict[str, str]) -> Iterator[str]:
    """A fresh service per test, starting from v1 as champion and no challenger."""
    registry = ModelRegistry(settings, migrated_engine)
    registry.set_alias(MODEL, CHAMPION, versions["lr"], reason="test", actor="tests")
    registry.delete_alias(MODEL, CHALLENGER, reason="test", actor="tests")
    with running_service(settings) as url:
        yield url


def version_of(url: str) -> str:
    return requests.post(f"{url}/predict", json={"records": RECORDS[:1]}, timeout=30).json()[
        "model"
    ]["version"]


def test_alias_move_under_load_fails_no_request(
    url: str, settings: Settings, migrated_engine: Engine, versions: dict[str, str]
) -> None:
    stop = threading.Event()
    seen: list[list[str]] = [[] for _ in range(6)]
    failures: list[Any] = []

    def client(i: int) -> None:
        with requests.Session() as session:
            while not stop.is_set():
                try:
                    r = session.post(
                        f"{url}/predict", json={"records": RECORDS[i : i + 2]}, timeout=30
                    )
                except requests.RequestException as exc:
                    failures.append(repr(exc))
                    continue
                if r.status_code != 200:
                    failures.append((r.status_code, r.text[:200]))
                else:
                    seen[i].append(r.json()["model"]["version"])

    threads = [threading.Thread(target=client, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    try:
        assert wait_until(lambda: all(len(s) >= 3 for s in seen), 30)
        move_alias(settings, migrated_engine, CHAMPION, versions["forest"])
        switched = wait_until(lambda: all(s and s[-1] == versions["forest"] for s in seen), 60)
        wait_until(lambda: all(len(s) >= 3 and s[-3] == versions["forest"] for s in seen), 10)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert failures == []
    assert switched, [s[-3:] for s in seen]
    for answers in seen:  # one process: once the new version answers, the old one never does
        first_new = answers.index(versions["forest"])
        assert set(answers[:first_new]) == {versions["lr"]}
        assert set(answers[first_new:]) == {versions["forest"]}
    with migrated_engine.connect() as conn:
        logged = set(conn.execute(select(predictions.c.model_version).distinct()).scalars())
        minutes = set(conn.execute(select(prediction_minutes.c.model_version).distinct()).scalars())
    assert {versions["lr"], versions["forest"]} <= logged and {
        versions["lr"],
        versions["forest"],
    } <= minutes


def test_challenger_output_is_logged_next_to_the_champions(
    url: str, settings: Settings, migrated_engine: Engine, versions: dict[str, str]
) -> None:
    move_alias(settings, migrated_engine, CHALLENGER, versions["forest2"])
    assert wait_until(
        lambda: (
            (requests.get(f"{url}/model").json()["challenger"] or {}).get("version")
            == versions["forest2"]
        ),
        30,
    )
    response = requests.post(f"{url}/predict", json={"records": RECORDS}, timeout=30)
    ids = [p["prediction_id"] for p in response.json()["predictions"]]
    assert response.json()["model"]["version"] == versions["lr"]  # the challenger never answers

    def shadowed() -> list[Any]:
        with migrated_engine.connect() as conn:
            query = select(predictions).where(
                predictions.c.id.in_(ids), predictions.c.shadow_version.is_not(None)
            )
            return list(conn.execute(query))

    assert wait_until(lambda: len(shadowed()) == len(ids), 30)
    rows = shadowed()
    expected = trained("random_forest", seed=6)
    frame = normalize_frame(expected.schema, pd.DataFrame.from_records(RECORDS))
    by_id = {row.id: row for row in rows}
    for pid, label, probabilities in zip(
        ids, expected.pipeline.predict(frame), expected.pipeline.predict_proba(frame), strict=True
    ):
        row = by_id[pid]
        assert row.shadow_version == versions["forest2"] and row.shadow_prediction == label
        assert row.shadow_probabilities["Yes"] == pytest.approx(
            probabilities[list(expected.pipeline.classes_).index("Yes")]
        )
    agree = sum(row.shadow_prediction == row.prediction for row in rows)
    with migrated_engine.connect() as conn:
        shadow_n, shadow_agree = conn.execute(
            select(
                func.sum(prediction_minutes.c.shadow_n), func.sum(prediction_minutes.c.shadow_agree)
            )
        ).one()
    assert shadow_n >= len(ids) and shadow_agree >= agree
    metrics = requests.get(f"{url}/metrics").text
    assert metric_value(
        metrics, "prediction_service_shadow_predictions_total", outcome="scored"
    ) >= len(ids)


def test_promoting_the_challenger_reuses_the_loaded_model(
    url: str, settings: Settings, migrated_engine: Engine, versions: dict[str, str]
) -> None:
    move_alias(settings, migrated_engine, CHALLENGER, versions["forest"])
    assert wait_until(
        lambda: (
            (requests.get(f"{url}/model").json()["challenger"] or {}).get("version")
            == versions["forest"]
        ),
        30,
    )
    loads = metric_value(
        requests.get(f"{url}/metrics").text, "prediction_service_model_reloads_total"
    )
    ModelRegistry(settings, migrated_engine).promote(
        MODEL, versions["forest"], reason="test", actor="tests"
    )
    assert wait_until(lambda: version_of(url) == versions["forest"], 30)
    assert requests.get(f"{url}/model").json()["challenger"] is None  # promote cleared the alias
    assert (
        metric_value(requests.get(f"{url}/metrics").text, "prediction_service_model_reloads_total")
        == loads
    )


def test_reload_endpoint_switches_at_once(
    settings: Settings, migrated_engine: Engine, versions: dict[str, str]
) -> None:
    quiet = settings.model_copy(update={"reload_poll_seconds": 3600.0})  # no polling in this test
    ModelRegistry(settings, migrated_engine).set_alias(
        MODEL, CHAMPION, versions["lr"], reason="t", actor="t"
    )
    with running_service(quiet) as url:
        move_alias(settings, migrated_engine, CHAMPION, versions["forest2"])
        assert version_of(url) == versions["lr"]
        response = requests.post(f"{url}/model/reload", timeout=120)
        assert response.status_code == 200
        assert (
            response.json()["changed"] is True
            and response.json()["model"]["version"] == versions["forest2"]
        )
        assert version_of(url) == versions["forest2"]


@pytest.mark.redis
def test_model_changed_signal_switches_without_polling(
    settings: Settings,
    migrated_engine: Engine,
    versions: dict[str, str],
    redis_url: str,
    redis_prefix: str,
) -> None:
    signalled = settings.model_copy(
        update={
            "reload_poll_seconds": 3600.0,
            "redis_url": redis_url,
            "redis_prefix": f"{redis_prefix}:reload",
        }
    )
    ModelRegistry(settings, migrated_engine).set_alias(
        MODEL, CHAMPION, versions["lr"], reason="t", actor="t"
    )
    with running_service(signalled) as url:
        move_alias(settings, migrated_engine, CHAMPION, versions["forest"])
        assert version_of(url) == versions["lr"]  # polling is off: nothing happens by itself
        # publish returns how many subscribers heard it: retry until the service's has subscribed
        assert wait_until(
            lambda: publish_model_changed(signalled, MODEL, versions["forest"]) > 0, 10
        )
        assert wait_until(lambda: version_of(url) == versions["forest"], 30)
