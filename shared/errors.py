"""The project's named exceptions, raised where a problem is found.

Each carries an HTTP status and a machine-readable code; the services turn them
into `{"error": {"code", "message", "details"}}` bodies and the CLI into exit code 2,
each in one place.
"""

from __future__ import annotations

from typing import Any


class PipelineError(Exception):
    """Base of every expected, explainable failure."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class BadRequest(PipelineError):
    status, code = 400, "bad_request"


class Unauthorized(PipelineError):
    status, code = 401, "unauthorized"


class Forbidden(PipelineError):
    status, code = 403, "forbidden"


class NotFound(PipelineError):
    status, code = 404, "not_found"


class Conflict(PipelineError):
    status, code = 409, "conflict"


class PayloadTooLarge(PipelineError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(PipelineError):
    status, code = 415, "unsupported_media_type"


class ValidationFailed(PipelineError):
    """Records failed validation; details["errors"] = [{index, field, message}]."""

    status, code = 422, "validation_failed"


class ServiceUnavailable(PipelineError):
    """A dependency (database, model, registry) cannot be reached right now."""

    status, code = 503, "unavailable"


class InputError(PipelineError):
    """Bad CLI input or data (missing file, wrong column ...): exit code 2."""

    status, code = 400, "bad_input"


class NoActiveModel(ServiceUnavailable):
    code = "no_active_model"
