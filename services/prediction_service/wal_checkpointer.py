"""SQLite only: WAL checkpoints on a thread of their own instead of inside a request's commit.

By default the connection whose commit takes the write-ahead log past 1,000 pages
copies the log back into the database file within that commit: ~12 ms on the
answer of a 10,000-row batch, and the same stall for whichever one-row request
happens to cross the mark. The prediction service turns automatic checkpoints off
on its own connections (other processes keep theirs) and runs a PASSIVE
checkpoint every `interval_s` on this thread; PASSIVE never waits for readers or
writers, it copies what it can.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)


class WalCheckpointer:
    def __init__(self, engine: Engine, *, interval_s: float = 1.0) -> None:
        self._engine = engine
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)

    @classmethod
    def attach(cls, engine: Engine, *, interval_s: float = 1.0) -> WalCheckpointer | None:
        """Turn off automatic checkpoints on `engine`'s connections; None unless SQLite.

        Call before the engine opens its first connection; then `start()`.
        """
        if engine.dialect.name != "sqlite":
            return None
        event.listen(engine, "connect", _no_autocheckpoint)
        return cls(engine, interval_s=interval_s)

    def start(self) -> WalCheckpointer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread after one last checkpoint (the WAL stays small at rest)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def checkpoint(self) -> tuple[int, int]:
        """One PASSIVE checkpoint: (frames in the WAL, frames copied to the database)."""
        raw = self._engine.raw_connection()
        try:
            cursor = raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")  # type: ignore[union-attr]
            _busy, frames, copied = cursor.fetchone()
            return int(frames), int(copied)
        finally:
            raw.close()

    def _run(self) -> None:
        while True:
            stopping = self._stop.wait(self._interval_s)
            try:
                self.checkpoint()
            except Exception as exc:  # the next round tries again; serving is unaffected
                log.warning("WAL checkpoint failed: %s", exc)
            if stopping:
                return


def _no_autocheckpoint(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")
