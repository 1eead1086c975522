"""Query-string parsing with the same pydantic models that document it."""

from __future__ import annotations

from typing import TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from shared.errors import BadRequest
from shared.http import envelope_errors

Model = TypeVar("Model", bound=BaseModel)


def parse_query(model: type[Model]) -> Model:
    """The request's query parameters as `model`; a bad or unknown one is a 400."""
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise BadRequest("invalid query parameters", {"errors": envelope_errors(exc)}) from None
