"""A local copy of each model version's artifacts, so reloading never downloads twice.

Layout: `<model_cache_dir>/<name>/v<version>-<model id>/`. A copy appears by an
atomic rename of a finished download, so a reader never sees half a model and
two processes downloading at once both end up with the same, whole directory.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import mlflow.artifacts

from ml.schema import DatasetSchema
from registry.model_logging import PROFILE_FILE, SCHEMA_FILE, SUMMARY_FILE
from registry.serialization import load_pipeline
from registry.types import LoadedModel

MEMORY_SLOTS = 4  # champion, challenger and a previous champion fit comfortably


class ModelCache:
    def __init__(self, root: Path, tracking_uri: str) -> None:
        self.root = root
        self.tracking_uri = tracking_uri
        self._loaded: OrderedDict[Path, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()  # services load from several request threads

    def local_dir(self, name: str, version: str, key: str) -> Path:
        safe_key = re.sub(r"[^A-Za-z0-9_.-]", "_", key)
        return self.root / re.sub(r"[^A-Za-z0-9_.-]", "_", name) / f"v{version}-{safe_key}"

    def load(
        self,
        name: str,
        version: str,
        *,
        key: str,
        artifact_uri: str,
        run_id: str | None,
        model_id: str | None,
    ) -> LoadedModel:
        """The version's LoadedModel: from memory, else the disk copy, else a fresh download."""
        path = self.local_dir(name, version, key)
        with self._lock:
            if path in self._loaded:
                self._loaded.move_to_end(path)
                return self._loaded[path]
        if not path.exists():
            self._download(artifact_uri, path)
        summary = _read_json(path / SUMMARY_FILE)
        model = LoadedModel(
            name=name,
            version=version,
            pipeline=load_pipeline(path),
            schema=DatasetSchema.from_dict(_read_json(path / SCHEMA_FILE)),
            profile=_read_json(path / PROFILE_FILE),
            metrics=summary.get("metrics", {}),
            run_id=run_id,
            model_id=model_id,
            family=summary.get("family"),
            path=path,
        )
        with self._lock:
            self._loaded[path] = model
            while len(self._loaded) > MEMORY_SLOTS:
                self._loaded.popitem(last=False)
        return model

    def _download(self, artifact_uri: str, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".download-", dir=path.parent))
        try:
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=artifact_uri, dst_path=str(staging), tracking_uri=self.tracking_uri
            )
            try:
                Path(local).rename(path)
            except OSError:
                if not path.exists():  # not the "another process finished first" case
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
