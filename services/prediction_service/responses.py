"""Answers of the scoring endpoints, written as JSON text from the already-encoded rows."""

from __future__ import annotations

import json

from flask import Response

from services.prediction_service.json_rows import dumps
from services.prediction_service.scoring import Scored

# An HTTP client reads a header line of at most 64 KiB (Python's http.client,
# among others); ids past this many would make the whole answer unreadable.
MAX_HEADER_IDS = 1_500
_ITEM = '{"prediction_id":"%s","prediction":%s,"probabilities":%s}'


def predict_response(scored: Scored) -> Response:
    """200 `{"model", "predictions", "warnings"?}` (the shape of api_models.PredictResponse)."""
    rows = scored.rows
    labels = {label: dumps(label) for label in set(rows.labels)}
    items = ",".join(
        [
            _ITEM % (pid, labels[label], probabilities)
            for pid, label, probabilities in zip(
                rows.ids, rows.labels, rows.probabilities_json, strict=True
            )
        ]
    )
    model = dumps({"name": rows.model_name, "version": rows.model_version})
    warnings = f',"warnings":{dumps(scored.warnings)}' if scored.warnings else ""
    body = f'{{"model":{model},"predictions":[{items}]{warnings}}}'
    return Response(body, mimetype="application/json")


def invocations_response(scored: Scored) -> Response:
    """MLflow's own body (json.dumps of {"predictions": predict()}), our facts in headers."""
    body = json.dumps({"predictions": scored.predicted_classes()})
    response = Response(body, mimetype="application/json")
    rows = scored.rows
    response.headers["X-Model-Name"] = rows.model_name
    response.headers["X-Model-Version"] = rows.model_version
    if rows.size <= MAX_HEADER_IDS:
        response.headers["X-Prediction-Ids"] = ",".join(rows.ids)
    else:
        # Too many for one header line: say so rather than send an unreadable answer.
        response.headers["X-Prediction-Ids-Omitted"] = str(rows.size)
    return response
