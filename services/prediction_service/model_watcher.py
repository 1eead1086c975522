"""Follows the registry's `champion` and `challenger` aliases and hot-swaps models.

One background thread checks the aliases every `poll_seconds` (the fallback that
always runs), and at once when woken by a model-changed signal or by
POST /model/reload. A new version is loaded and warmed up in this thread, then
swapped in; requests never wait for a load, and until the first load succeeds
the service answers 503.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable

from services.prediction_service.model_holder import ALIASES, CHALLENGER, ModelHolder
from services.prediction_service.model_source import ModelSource
from services.prediction_service.served_model import ServedModel
from shared.signals import ModelChanged

log = logging.getLogger(__name__)


class ModelWatcher:
    def __init__(
        self,
        source_factory: Callable[[], ModelSource],
        holder: ModelHolder,
        *,
        poll_seconds: float,
        on_reload: Callable[[str, bool], None] | None = None,
    ) -> None:
        self._source_factory = source_factory
        self._source: ModelSource | None = None
        self._holder = holder
        self._poll_seconds = poll_seconds
        self._on_reload = on_reload or (lambda _alias, _ok: None)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._cond = threading.Condition()
        self._requested = (
            0  # check generations, so check_now waits for a check that started after it
        )
        self._completed = 0
        self._frozen = False
        self._thread = threading.Thread(target=self._run, name="model-watcher", daemon=True)

    def start(self) -> ModelWatcher:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def wake(self) -> None:
        """Check the aliases now instead of at the next poll."""
        self._wake.set()

    def on_signal(self, event: ModelChanged) -> None:
        log.info("model-changed signal: %s@%s -> %s", event.model_name, event.alias, event.version)
        self.wake()

    def check_now(self, timeout: float) -> bool:
        """Wake the watcher and wait until a check that started after this call has ended."""
        with self._cond:
            self._requested += 1
            target = self._requested
        self.wake()
        with self._cond:
            return self._cond.wait_for(lambda: self._completed >= target, timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            self._check()
            self._wake.wait(self._poll_seconds)

    def _check(self) -> None:
        with self._cond:
            generation = self._requested
        error: str | None = None
        try:
            if self._source is None:
                self._source = self._source_factory()
            name = self._source.model_name()
            for alias in ALIASES:
                self._follow(self._source, name, alias)
            self._freeze_once()
        except Exception as exc:  # keep serving what we have; try again at the next poll
            error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            log.warning("model check failed: %s", error)
        self._holder.checked(error)
        with self._cond:
            self._completed = generation
            self._cond.notify_all()

    def _freeze_once(self) -> None:
        """After the first model is in: exempt everything alive from the cyclic GC.

        MLflow, scikit-learn and the model leave ~400,000 long-lived objects, and a
        full collection over them stopped every thread for ~230 ms here (a p99
        killer). Frozen objects are still freed by reference counting.
        """
        if not self._frozen and self._holder.champion is not None:
            gc.freeze()
            self._frozen = True

    def _follow(self, source: ModelSource, name: str, alias: str) -> None:
        current = self._holder.get(alias)
        version = source.version_for(name, alias)
        if version is None:
            # A champion alias that vanished is no reason to stop answering; a
            # challenger that did simply means no shadow scoring.
            if alias == CHALLENGER and current is not None:
                self._holder.swap(alias, None)
            return
        if current is not None and (current.name, current.version) == (name, version):
            return
        model = self._already_loaded(name, version) or self._load(source, name, version, alias)
        self._holder.swap(alias, model)
        log.info("now serving %s version %s as %s", name, version, alias)

    def _already_loaded(self, name: str, version: str) -> ServedModel | None:
        """A promoted challenger is already loaded and warm: reuse it."""
        for alias in ALIASES:
            model = self._holder.get(alias)
            if model is not None and (model.name, model.version) == (name, version):
                return model
        return None

    def _load(self, source: ModelSource, name: str, version: str, alias: str) -> ServedModel:
        try:
            model = source.load(name, version)
            seconds = model.warm_up()
        except Exception:
            self._on_reload(alias, False)
            raise
        self._on_reload(alias, True)
        log.info(
            "loaded %s version %s in %.2fs (warm-up %.3fs)",
            name,
            version,
            model.load_seconds,
            seconds,
        )
        return model
