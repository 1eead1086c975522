"""The models in service right now: champion (answers) and challenger (shadow).

Swapping is one reference assignment: a request that already took the old
champion keeps it to the end, the next request gets the new one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from services.prediction_service.served_model import ServedModel
from shared.errors import ServiceUnavailable

CHAMPION = "champion"
CHALLENGER = "challenger"
ALIASES = (CHAMPION, CHALLENGER)

SwapListener = Callable[[str, ServedModel | None, ServedModel | None], None]


class ModelHolder:
    def __init__(self, on_swap: SwapListener | None = None) -> None:
        self._models: dict[str, ServedModel | None] = dict.fromkeys(ALIASES)
        self._lock = threading.Lock()
        self._on_swap = on_swap or (lambda _alias, _old, _new: None)
        self.last_error: str | None = None
        self.last_check_at: datetime | None = None

    @property
    def champion(self) -> ServedModel | None:
        return self._models[CHAMPION]

    @property
    def challenger(self) -> ServedModel | None:
        return self._models[CHALLENGER]

    def get(self, alias: str) -> ServedModel | None:
        return self._models[alias]

    def require_champion(self) -> ServedModel:
        model = self._models[CHAMPION]
        if model is None:
            detail = f": {self.last_error}" if self.last_error else ""
            raise ServiceUnavailable(f"no model is loaded yet{detail}", {"retry": True})
        return model

    def swap(self, alias: str, model: ServedModel | None) -> None:
        with self._lock:
            old, self._models[alias] = self._models[alias], model
        if old is not model:
            self._on_swap(alias, old, model)

    def checked(self, error: str | None) -> None:
        self.last_error = error
        self.last_check_at = datetime.now(UTC)
