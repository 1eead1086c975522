import numpy as np
import pandas as pd
import pytest

from ml.schema import DatasetSchema, infer_schema, normalize_frame
from shared.errors import InputError


def frame(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns)


def test_infers_kinds_drops_useless_columns_and_counts_missing_targets() -> None:
    n = 60
    rng = np.random.default_rng(0)
    data = frame(
        age=rng.normal(50, 10, n),
        code=rng.integers(1, 4, n),  # low-cardinality integer code -> categorical
        flag=rng.random(n) > 0.5,  # bool -> categorical
        city=rng.choice(["a", "b", "c"], n),
        row_id=[f"id-{i}" for i in range(n)],  # ID-like
        constant=["x"] * n,
        empty=[None] * n,
        y=rng.choice(["Yes", "No"], n).astype(object),
    )
    data.loc[:4, "y"] = None
    schema, missing_target = infer_schema(data, "y")
    assert missing_target == 5
    assert schema.task == "binary" and schema.classes == ("No", "Yes")
    assert schema.numeric == ["age"]
    assert set(schema.categorical) == {"code", "flag", "city"}
    assert schema.feature("code").categories == ("1", "2", "3")
    assert set(schema.dropped) == {"row_id", "constant", "empty"}
    assert "ID-like" in schema.dropped["row_id"]
    assert DatasetSchema.from_dict(schema.to_dict()) == schema


def test_multiclass_and_refusals() -> None:
    rng = np.random.default_rng(1)
    data = frame(x=rng.normal(size=90), y=np.repeat(["a", "b", "c"], 30))
    assert infer_schema(data, "y")[0].task == "multiclass"
    with pytest.raises(InputError, match="columns? .*has: x, y|has: x, y"):
        infer_schema(data, "missing")
    with pytest.raises(InputError, match="single class"):
        infer_schema(frame(x=[1.0, 2.0, 3.0], y=["a", "a", "a"]), "y")
    with pytest.raises(InputError, match="regression"):
        infer_schema(frame(x=rng.normal(size=90), y=rng.normal(size=90)), "y")


def test_normalize_compares_categories_as_strings() -> None:
    data = frame(
        n=[1, 2, 3, 4, 5, 6, 7], c=["1", "2", "1", "2", "1", "2", "1"], y=list("ababab") + ["a"]
    )
    schema, _ = infer_schema(data, "y")
    out = normalize_frame(schema, frame(n=["4.5", None], c=[1, 2.0]))
    assert out["n"].tolist()[0] == 4.5 and np.isnan(out["n"].tolist()[1])
    assert out["c"].tolist() == ["1", "2"]
