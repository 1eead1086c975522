"""The answer bodies of the ingestion endpoints, built from a ValidationResult.

Error lists are capped: a 100,000-record batch where every record is wrong
would otherwise answer (and store, for idempotent replays) megabytes of
repeated messages. `rejected` always counts every rejected record.
"""

from __future__ import annotations

from typing import Any

from ml.validation import ValidationResult
from shared.errors import ValidationFailed

MAX_REPORTED_ERRORS = 1_000
MAX_REPORTED_FIELDS = 100
MAX_FIELD_NAME = 200


def batch_result(batch_id: str, validation: ValidationResult) -> dict[str, Any]:
    errors = validation.errors
    return {
        "batch_id": batch_id,
        "accepted": validation.accepted,
        "rejected": len(validation.rejected),
        "labelled": int(validation.labels.notna().sum()),
        "errors": errors[:MAX_REPORTED_ERRORS],
        "errors_truncated": len(errors) > MAX_REPORTED_ERRORS,
        "unknown_fields": [
            name[:MAX_FIELD_NAME] for name in validation.unknown_fields[:MAX_REPORTED_FIELDS]
        ],
        "unseen_categories": dict(validation.unseen_categories),
    }


def strict_failure(result: dict[str, Any]) -> ValidationFailed:
    """Strict mode: nothing was stored because at least one record is invalid."""
    return ValidationFailed(
        f"{result['rejected']} of {result['accepted'] + result['rejected']} records are "
        "invalid; strict mode stores nothing",
        {
            "errors": result["errors"],
            "errors_truncated": result["errors_truncated"],
            "rejected": result["rejected"],
            "unknown_fields": result["unknown_fields"],
        },
    )
