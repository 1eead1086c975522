import io

import pandas as pd
import pytest

from ml.data.sample import make_dataset
from ml.schema import infer_schema
from ml.validation import loads_json, validate_frame, validate_records


@pytest.fixture(scope="module")
def schema():
    return infer_schema(make_dataset(500, seed=1), "Recovered")[0]


GOOD = {
    "Age": 50,
    "Gender": "Male",
    "Smoking Status": None,
    "Lung Capacity": 3.5,
    "Disease Type": "COPD",
    "Treatment Type": "Surgery",
    "Hospital Visits": 2,
}


def test_valid_records_with_nulls_and_unknown_keys(schema) -> None:
    result = validate_records(schema, [GOOD, GOOD | {"extra": 1, "Ünïcode": 2}])
    assert result.errors == [] and result.accepted == 2
    assert result.unknown_fields == ["extra", "Ünïcode"]
    assert result.frame["Smoking Status"].isna().all()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"Age": "old"}, "Age", "expected a number"),
        ({"Age": True}, "Age", "expected a number"),
        ({"Age": {"v": 1}}, "Age", "not an object"),
        ({"Gender": ["Male"]}, "Gender", "not an object"),
        ({"Gender": "x" * 10_000}, "Gender", "longer than"),
        ({"Recovered": "Maybe"}, "Recovered", "unknown class"),
        ({"event_time": "yesterday"}, "event_time", "ISO 8601"),
    ],
)
def test_each_bad_value_names_index_and_field(schema, change, field, message) -> None:
    result = validate_records(schema, [GOOD, GOOD | change])
    assert result.accepted == 1 and result.rejected == [1]
    assert result.errors[0]["index"] == 1 and result.errors[0]["field"] == field
    assert message in result.errors[0]["message"]


def test_absent_feature_and_non_object_records(schema) -> None:
    partial = {k: v for k, v in GOOD.items() if k != "Age"}
    result = validate_records(schema, [partial, "not a dict", GOOD])
    assert [(e["index"], e["field"]) for e in result.errors] == [(0, "Age"), (1, None)]


def test_nan_and_infinity_literals_are_rejected(schema) -> None:
    records = loads_json('[{"Age": NaN}, {"Age": Infinity}, {"Age": 1e400}]')
    result = validate_records(schema, [GOOD | r for r in records])
    assert result.rejected == [0, 1, 2]
    assert all("finite" in e["message"] for e in result.errors)


def test_unseen_categories_are_accepted_and_counted(schema) -> None:
    result = validate_records(schema, [GOOD | {"Disease Type": "Tuberculosis"}, GOOD])
    assert result.accepted == 2 and result.unseen_categories == {"Disease Type": 1}


def test_csv_cells_are_text_and_empty_is_missing(schema) -> None:
    text = (
        "Age,Gender,Smoking Status,Lung Capacity,Disease Type,Treatment Type,Hospital Visits,Recovered\n"
        "50,Male,,3.5,COPD,Surgery,2,Yes\nabc,Male,,3.5,COPD,Surgery,2,No\n"
    )
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    result = validate_frame(schema, frame)
    assert result.accepted == 1 and result.errors[0]["field"] == "Age"
    assert result.labels.tolist() == ["Yes"]
