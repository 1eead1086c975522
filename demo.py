"""Guided walkthrough: watch ml-pipeline notice drift, retrain, gate and promote on its own.

    python demo.py          # asks before starting services
    python demo.py --yes    # no prompts (CI); exits non-zero if the loop does not close in time

The walkthrough itself lives in services/demo/; this file only makes sure it runs
inside the project's virtual environment.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent
VENV_PYTHON = REPO / ".venv" / "bin" / "python"


def _in_project_venv() -> bool:
    return Path(sys.prefix).resolve() == (REPO / ".venv").resolve()


if __name__ == "__main__":
    if not _in_project_venv():
        if not VENV_PYTHON.exists():
            print(
                "The project is not installed yet: run ./run_all_services.sh first (it creates .venv)."
            )
            sys.exit(2)
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), str(Path(__file__).resolve()), *sys.argv[1:]])
    from services.demo.walkthrough import main

    sys.exit(main(sys.argv[1:]))
