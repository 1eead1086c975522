"""The MLflow scoring protocol (`POST /invocations`), turned into plain records.

The four JSON input formats `mlflow models serve` accepts, plus its CSV body:

- `{"dataframe_split": {"columns": [...], "data": [[...], ...]}}`
- `{"dataframe_records": [{column: value}, ...]}`
- `{"instances": [{column: value}, ...]}` or `{"instances": {column: [values]}}`
- `{"inputs": ...}` with the same two shapes as `instances`

Extra top-level keys (such as `params`) are ignored, as MLflow ignores them for
scikit-learn models. The records then go through the same validation as
/predict, and the answer is MLflow's: `{"predictions": [label, ...]}`.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

from shared.errors import BadRequest

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")


def records_from_payload(payload: Any) -> list[Any]:
    """Records (JSON objects) from a parsed MLflow scoring request; BadRequest if malformed."""
    if not isinstance(payload, dict):
        raise BadRequest(
            f"the body must be a JSON object with one of the keys {', '.join(FORMATS)}"
        )
    present = [key for key in FORMATS if key in payload]
    if len(present) != 1:
        raise BadRequest(
            f"the body needs exactly one of the keys {', '.join(FORMATS)}",
            {"found": present},
        )
    key = present[0]
    data = payload[key]
    if key == "dataframe_split":
        return _split_records(data)
    if key == "dataframe_records":
        if not isinstance(data, list):
            raise BadRequest("dataframe_records must be a list of records", {"field": key})
        return data
    if isinstance(data, dict):
        return _column_records(data, key)
    if isinstance(data, list):
        return data
    raise BadRequest(f"{key} must be a list of records or an object of columns", {"field": key})


def frame_from_csv(body: bytes) -> pd.DataFrame:
    """A CSV body (header row + rows) as text cells, as `mlflow models serve` accepts it."""
    try:
        text = body.decode("utf-8")
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except UnicodeDecodeError:
        raise BadRequest("the CSV body is not UTF-8") from None
    except (ValueError, pd.errors.ParserError) as exc:
        raise BadRequest(f"the CSV body cannot be parsed: {str(exc).splitlines()[0]}") from None


def _split_records(data: Any) -> list[Any]:
    if not isinstance(data, dict):
        raise BadRequest("dataframe_split must be an object with columns and data")
    columns, rows = data.get("columns"), data.get("data")
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise BadRequest("dataframe_split.columns must be a list of column names")
    if not isinstance(rows, list):
        raise BadRequest("dataframe_split.data must be a list of rows")
    records: list[Any] = []
    for index, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(columns):
            raise BadRequest(
                f"dataframe_split.data[{index}] must be a list of {len(columns)} values",
                {"index": index},
            )
        records.append(dict(zip(columns, row, strict=True)))
    return records


def _column_records(data: dict[str, Any], key: str) -> list[Any]:
    """Column format: {name: [values]} (or {name: value} for one row)."""
    if all(not isinstance(v, list) for v in data.values()):
        return [data]
    lengths = {len(v) for v in data.values() if isinstance(v, list)}
    if len(lengths) != 1 or not all(isinstance(v, list) for v in data.values()):
        raise BadRequest(f"every column of {key} must be a list of the same length")
    names = list(data)
    return [dict(zip(names, values, strict=True)) for values in zip(*data.values(), strict=True)]
