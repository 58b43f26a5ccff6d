"""The whole pipeline in one command: the eight sections run from one pipeline file,
cached by the hash of their inputs and resumable, with an HTML run report.

>>> from aws_ml import Session
>>> from aws_ml.pipeline import run, load_pipeline, example_path
>>> with Session(backend="local") as session:                      # doctest: +SKIP
...     result = run(example_path("fraud"), session)
>>> result.executed, result.report_html                            # doctest: +SKIP

* :mod:`.spec` — the pipeline file (YAML, or the same dataclasses in Python), strictly checked;
* :mod:`.steps` — the step registry; :mod:`.sections` — the built-in steps (one per section);
* :mod:`.cache` — step records keyed by the hash of their inputs (local state or S3);
* :mod:`.runner` — :func:`run`; :mod:`.report` — the HTML/JSON run report;
* :mod:`.cli` — ``aws-ml pipeline run|status|report|sections``.
"""
from __future__ import annotations

from pathlib import Path

from .runner import RunResult, StepRun, load_run, run
from .spec import PipelineFileError, PipelineSpec, check_columns, load_pipeline
from .steps import STEPS, Step, StepContext, StepRegistry, default_registry

EXAMPLES = Path(__file__).resolve().parent / "examples"


def example_names() -> list[str]:
    """The bundled example pipelines: ``<name>`` for each ``examples/<name>_pipeline.yaml``."""
    return sorted(p.name[:-len("_pipeline.yaml")] for p in EXAMPLES.glob("*_pipeline.yaml"))


def example_path(name: str = "fraud") -> Path:
    """The bundled example pipeline file ``name``: ``"fraud"`` (the default), ``"diabetes"``
    (a regression), ``"reviews"``... — any ``<name>`` of ``examples/<name>_pipeline.yaml``
    (the file name itself, ``"fraud_pipeline.yaml"``, works too)."""
    file = name if name.endswith((".yaml", ".yml")) else f"{name}_pipeline.yaml"
    path = EXAMPLES / file
    if "/" in name or "\\" in name or not path.is_file():
        raise ValueError(f"There is no bundled example pipeline {name!r}; "
                         f"the examples are {', '.join(example_names())}.")
    return path


__all__ = ["PipelineFileError", "PipelineSpec", "RunResult", "STEPS", "Step", "StepContext", "StepRegistry",
           "StepRun", "check_columns", "default_registry", "example_names", "example_path", "load_pipeline", "load_run", "run"]
