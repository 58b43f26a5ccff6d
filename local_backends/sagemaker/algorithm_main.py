"""What the built-in algorithm programs (``xgboost_algo``, ``blazingtext_algo``) do around
their training, as SageMaker's algorithm containers do: find the job's ``/opt/ml`` tree
(``SAGEMAKER_BASE_DIR``), and turn an error into ``output/failure`` — ``ClientError: ...``
for a problem with the job's data or hyperparameters, ``Framework Error: ...`` for any other
— and a non-zero exit status.

The programs run as files (``python .../xgboost_algo.py``), with this folder first on
``sys.path``, so they import this module by its bare name there.
"""
from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Callable


class CustomerError(Exception):
    """A problem with the job's data or hyperparameters (the container's wording)."""


def run(train: Callable[[Path], None]) -> int:
    """Call ``train(base)`` on the job's tree; return the process's exit status."""
    base = Path(os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml"))
    failure = base / "output" / "failure"
    try:
        train(base)
    except CustomerError as exc:
        failure.parent.mkdir(parents=True, exist_ok=True)
        failure.write_text(f"ClientError: {exc}")
        print(f"ClientError: {exc}", file=sys.stderr, flush=True)
        return 1
    except Exception as exc:  # the container reports any other error as an algorithm error
        failure.parent.mkdir(parents=True, exist_ok=True)
        failure.write_text(f"Framework Error: {type(exc).__name__}: {exc}")
        traceback.print_exc()
        return 1
    return 0
