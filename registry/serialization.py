"""How a Pipeline is stored: skops, with the trusted types decided here rather than by the file.

Pickle runs arbitrary code on load, so anyone who can write to the artifact
store could take over every process that loads a model. skops rebuilds only the
types it is told to trust. MLflow 3 saves with skops and records the trusted
list in the MLmodel file; but that file sits next to the model, so this module
checks every type against our own allowlist on save *and* on load.
"""

from __future__ import annotations

from pathlib import Path

import skops.io
from sklearn.pipeline import Pipeline

from shared.errors import PipelineError

MODEL_FILE = "model.skops"
# Types from these libraries are what our Pipelines are made of; skops trusts
# most of them already and lists the rest (Tree, TreePredictor, numpy.dtype ...).
TRUSTED_MODULE_PREFIXES = ("sklearn.", "numpy.", "scipy.")
# functools.partial wraps sklearn's own check_array in HistGradientBoosting; the
# wrapped function is itself checked against the allowlist.
TRUSTED_NAMES = frozenset({"functools.partial"})


class UntrustedModelError(PipelineError):
    """A model file references a type outside the allowlist: refuse to save or load it."""

    status, code = 500, "untrusted_model"


def is_trusted(type_name: str) -> bool:
    return type_name in TRUSTED_NAMES or type_name.startswith(TRUSTED_MODULE_PREFIXES)


def trusted_types(pipeline: Pipeline) -> list[str]:
    """The extra types skops must trust to load this Pipeline; raise if any is not ours."""
    untrusted = skops.io.get_untrusted_types(data=skops.io.dumps(pipeline))
    return _checked(untrusted, "the trained pipeline")


def load_pipeline(model_dir: Path) -> Pipeline:
    """Load `model.skops` from a model directory after checking its types."""
    path = Path(model_dir) / MODEL_FILE
    untrusted = skops.io.get_untrusted_types(file=path)
    pipeline = skops.io.load(path, trusted=_checked(untrusted, str(path)))
    if not isinstance(pipeline, Pipeline):
        raise UntrustedModelError(f"{path} does not hold a scikit-learn Pipeline")
    return pipeline


def _checked(untrusted: list[str], what: str) -> list[str]:
    refused = sorted(name for name in untrusted if not is_trusted(name))
    if refused:
        raise UntrustedModelError(
            f"{what} references types outside the allowlist: {', '.join(refused)}",
            {"types": refused},
        )
    return sorted(untrusted)
