"""`mlpipe init`: CSV -> schema -> reference rows -> trained, registered champion.

Two phases. `plan_initial_model` finds everything that can be wrong with the
user's input (the CSV, the target, the row counts: it trains in memory) and
writes nothing. `register_initial_model` then writes; if a step fails it undoes
the earlier ones, so no half-registered model or orphan data set is left.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from ml.feature_store import REFERENCE_SPLIT, Dataset, FeatureStore, create_dataset, find_dataset
from ml.feature_store.datasets import delete_dataset, set_row_count, validate_name
from ml.training import Progress, TrainerConfig, TrainingResult, train
from ml.training.csv_input import PreparedData, prepare_training_data, read_training_csv
from shared.config import Settings
from shared.database import write_transaction
from shared.errors import InputError

if TYPE_CHECKING:  # MLflow is slow to import; input errors should not wait for it
    from registry import ModelRegistry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InitPlan:
    name: str
    csv_path: Path
    data: PreparedData
    result: TrainingResult
    force: bool


@dataclass(frozen=True)
class InitOutcome:
    dataset: Dataset
    version: str
    run_id: str | None
    data: PreparedData
    result: TrainingResult
    replaced: bool


def plan_initial_model(
    settings: Settings,
    engine: Engine,
    *,
    csv_path: Path,
    target: str,
    name: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> InitPlan:
    """Validate the input and train in memory; InputError (and no writes) on any problem."""
    report = progress or (lambda _message: None)
    name = validate_name(name or csv_path.stem)
    if not force and find_dataset(engine, name) is not None:
        raise InputError(f"model {name!r} is already initialised; pass --force to replace it")
    report(f"reading {csv_path}")
    data = prepare_training_data(read_training_csv(csv_path), target)
    labelled = data.labelled
    config = TrainerConfig.from_settings(settings)
    result = train(data.features[labelled], data.labels[labelled], data.schema, config, report)
    return InitPlan(name, csv_path, data, result, force)


def register_initial_model(
    engine: Engine, registry: ModelRegistry, plan: InitPlan, progress: Progress | None = None
) -> InitOutcome:
    """Register the planned model, store its reference rows and make it champion."""
    report = progress or (lambda _message: None)
    name = plan.name
    if not plan.force and registry.list_versions(name):
        raise InputError(
            f"the MLflow store already has a model named {name!r}; "
            "pass --force to replace it or --name to choose another name"
        )
    report("logging the run and registering the model in MLflow")
    info = registry.log_candidate(name, plan.result, tags={"mlpipe.reason": "init"})
    dataset: Dataset | None = None
    try:
        report(f"storing {len(plan.data.features):,} reference rows")
        dataset = _store_reference_rows(engine, plan)
        if plan.force:  # the new version keeps counting up, so logged predictions stay unambiguous
            registry.delete_versions_except(name, info.version)
        report("making it the champion")
        registry.promote(
            name,
            info.version,
            reason=f"initial model from {plan.csv_path.name}",
            actor="mlpipe init",
        )
    except BaseException:
        log.warning("init failed after registering v%s; removing it", info.version)
        registry.delete_version(name, info.version)
        if dataset is not None:
            with write_transaction(engine) as conn:
                delete_dataset(conn, dataset.id)
        raise
    return InitOutcome(dataset, info.version, info.run_id, plan.data, plan.result, plan.force)


def initialise_model(
    settings: Settings,
    engine: Engine,
    registry: ModelRegistry,
    *,
    csv_path: Path,
    target: str,
    name: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> InitOutcome:
    """Both phases in one call (tests, benchmarks, scripts)."""
    plan = plan_initial_model(
        settings, engine, csv_path=csv_path, target=target, name=name, force=force,
        progress=progress,
    )  # fmt: skip
    return register_initial_model(engine, registry, plan, progress)


def _store_reference_rows(engine: Engine, plan: InitPlan) -> Dataset:
    """The data set and all its rows (unlabelled ones too) in one transaction."""
    data = plan.data
    store = FeatureStore(engine)
    with write_transaction(engine) as conn:
        dataset = create_dataset(
            conn, name=plan.name, schema=data.schema, source=str(plan.csv_path), replace=plan.force
        )
        written = store.write_rows(
            conn,
            dataset.id,
            data.features,
            labels=data.labels,
            entity_ids=data.entity_ids,
            event_times=data.event_times,
            split=REFERENCE_SPLIT,
        )
        set_row_count(conn, dataset.id, written)
    return find_dataset(engine, plan.name) or dataset
