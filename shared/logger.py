"""Logging, configured once per process.

Readable lines on a terminal, JSON lines otherwise, and always a JSON daily file
`logs/<service>_YYYYMMDD.log` under PIPELINE_HOME (one file per process name
and day, no rotation: several processes appending is safe that way).
Every record carries the service name and, inside a request, the request id.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path

from shared.config import Settings

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "service",
    "request_id",
}


class _ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": getattr(record, "service", None),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            payload["request_id"] = request_id
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}
        payload.update(extras)
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)-7s %(service)s %(name)s: %(message)s", "%H:%M:%S"
        )

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = getattr(record, "request_id", None)
        return f"{line} [req={rid}]" if rid else line


class DailyFileHandler(logging.FileHandler):
    """Appends to `<dir>/<service>_YYYYMMDD.log`, switching file when the UTC day changes."""

    def __init__(self, directory: Path, service: str) -> None:
        self.directory, self.service = directory, service
        self.day = self._today()
        directory.mkdir(parents=True, exist_ok=True)
        super().__init__(self._path(), encoding="utf-8", delay=True)

    @staticmethod
    def _today() -> str:
        return datetime.now(UTC).strftime("%Y%m%d")

    def _path(self) -> str:
        return str(self.directory / f"{self.service}_{self.day}.log")

    def emit(self, record: logging.LogRecord) -> None:
        today = self._today()
        if today != self.day:
            self.acquire()
            try:
                self.close()
                self.day, self.baseFilename = today, self._path()
            finally:
                self.release()
        super().emit(record)


def configure_logging(settings: Settings, service: str, *, to_file: bool = True) -> None:
    """Install handlers on the root logger (replacing any earlier ones)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(settings.log_level)
    context = _ContextFilter(service)

    use_json = settings.log_format == "json" or (
        settings.log_format == "auto" and not sys.stderr.isatty()
    )
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(JsonFormatter() if use_json else TextFormatter())
    console.addFilter(context)
    root.addHandler(console)

    if to_file:
        file_handler = DailyFileHandler(settings.log_dir, service)
        file_handler.setFormatter(JsonFormatter())
        file_handler.addFilter(context)
        root.addHandler(file_handler)
    for noisy in ("alembic.runtime.migration", "urllib3", "werkzeug", "mlflow", "huey"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
