"""Read a user's training CSV and turn it into a schema plus a normalised, labelled frame.

Every problem with the file is an InputError with one line saying what is wrong
and what to do, found before anything is trained, stored or registered.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ml.schema import DatasetSchema, infer_schema, labels_as_strings, normalize_frame
from shared.errors import InputError

SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class PreparedData:
    """The CSV as the feature store and the trainer need it."""

    schema: DatasetSchema
    features: pd.DataFrame  # every row, normalised to the schema
    labels: pd.Series  # class strings; NaN where the target is missing
    entity_ids: pd.Series | None  # from an `entity_id` column, if the CSV has one
    event_times: pd.Series | None  # from an `event_time` column, if the CSV has one
    missing_target: int  # rows without a target: stored, not trained on

    @property
    def labelled(self) -> pd.Series:
        """Boolean mask of the rows training can use."""
        return self.labels.notna()


def read_training_csv(path: str | Path) -> pd.DataFrame:
    """Parse a UTF-8 CSV with a header row and at least one data row."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file; pass --data with the path of a CSV file")
    if path.is_dir():
        raise InputError(f"{path} is a directory; pass --data with the path of a CSV file")
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head.strip():
        raise InputError(f"{path} is empty; it needs a header row and data rows")
    if b"\x00" in head:
        raise InputError(f"{path} is not a CSV (binary content); export it as UTF-8 CSV")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a character cut at the sniff boundary
            raise InputError(
                f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV"
            ) from None
    try:
        frame = pd.read_csv(path, encoding="utf-8", low_memory=False, skipinitialspace=True)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text ({exc.reason}); save it as UTF-8 CSV") from None
    except (pd.errors.ParserError, csv.Error) as exc:
        message = str(exc).strip().splitlines()[0]
        raise InputError(f"{path} is not a readable CSV: {message}") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path} has no columns; it needs a header row and data rows") from None
    if frame.empty:
        raise InputError(f"{path} has a header but no data rows")
    if len(frame.columns) < 2:
        raise InputError(
            f"{path} has a single column ({frame.columns[0]!r}): need features and a target; "
            "is it comma-separated?"
        )
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def prepare_training_data(frame: pd.DataFrame, target: str) -> PreparedData:
    """Infer the schema and normalise every row; InputError when the target is unusable."""
    schema, missing_target = infer_schema(frame, target)
    entity_ids = frame["entity_id"].astype(object) if "entity_id" in frame else None
    event_times = None
    if "event_time" in frame:
        event_times = pd.to_datetime(frame["event_time"], utc=True, errors="coerce")
    return PreparedData(
        schema=schema,
        features=normalize_frame(schema, frame),
        labels=labels_as_strings(frame[target]),
        entity_ids=entity_ids,
        event_times=event_times,
        missing_target=missing_target,
    )
