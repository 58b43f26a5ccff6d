"""Run a pipeline: every section in order, cached, resumable, with progress and a report.

>>> from aws_ml import Session
>>> from aws_ml.pipeline import run
>>> with Session(backend="local") as session:                               # doctest: +SKIP
...     result = run("aws_ml/pipeline/examples/fraud_pipeline.yaml", session)
>>> [(s.name, s.status) for s in result.steps]                             # doctest: +SKIP
[('problem', 'done'), ('data', 'done'), ...]

A step runs only when its cache key — the hash of its configuration, of the keys of the
steps it depends on and of where it writes — has no completed record; otherwise its
recorded outputs are reused (status ``cached``). Statuses: ``done`` (run now), ``cached``,
``skipped`` (the section is not in the pipeline file), ``unavailable`` (its facade is not
in this version of aws_ml), ``blocked`` (a step it needs did not produce outputs),
``failed`` and ``not run`` (after a failure).
"""
from __future__ import annotations

import json
import secrets
import time
import traceback
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from .cache import LocalStateStore, S3StateStore, StateStore, digest
from .spec import PipelineSpec, as_spec, check_columns, resolve
from .stack import apply_stack
from .steps import StepContext, StepRegistry, default_registry, unavailable_message

PRODUCED = ("done", "cached")
MARKS = {"done": "[green]✓[/]", "cached": "[cyan]↺[/]", "skipped": "[dim]–[/]", "unavailable": "[yellow]∅[/]",
         "blocked": "[yellow]⊘[/]", "failed": "[red]✗[/]", "not run": "[dim]·[/]"}


@dataclass
class StepRun:
    """What happened to one step in one run."""

    name: str
    section: int
    title: str
    status: str
    seconds: float = 0.0
    key: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    notes: list[str] = field(default_factory=list)
    computed_seconds: float | None = None      # how long the step took when it was computed
    computed_in_run: str | None = None         # the run that computed the outputs reused


@dataclass
class RunResult:
    """One run of a pipeline: each step's status, outputs and timing, and the report."""

    run_id: str
    pipeline: str
    source: str
    backend: str
    region: str
    bucket: str
    prefix: str
    state: str
    started_at: str
    seconds: float = 0.0
    steps: list[StepRun] = field(default_factory=list)
    previous_run_id: str | None = None
    report_html: str | None = None
    report_json: str | None = None
    spec: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(s.status == "failed" for s in self.steps)

    @property
    def executed(self) -> list[str]:
        """The steps computed in this run (not taken from the cache)."""
        return [s.name for s in self.steps if s.status == "done"]

    def step(self, name: str) -> StepRun:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.ok
        out["executed"] = self.executed
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "RunResult":
        data = {k: v for k, v in data.items() if k not in ("ok", "executed")}
        steps = [StepRun(**s) for s in data.pop("steps", [])]
        return cls(**data, steps=steps)


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(2)


def account_of(session) -> str:
    if session.backend in ("local", "moto") or session.backend_for("sts") == "local":
        from aws_ml.session import LOCAL_ACCOUNT_ID

        return LOCAL_ACCOUNT_ID
    return session.client("sts").get_caller_identity()["Account"]


def state_store(spec: PipelineSpec, session, bucket: str, prefix: str) -> StateStore:
    """Local state under the session's home on ``local``; in S3 beside the artefacts otherwise."""
    if session.backend == "local":
        return LocalStateStore(session.home / "pipelines" / spec.name)
    return S3StateStore(session.client("s3"), bucket, prefix)


class _Progress:
    """One line per section on stderr (rich), or nothing."""

    def __init__(self, enabled: bool, title: str) -> None:
        self.enabled = enabled
        self.title = title
        self.bar = None

    def __enter__(self) -> "_Progress":
        if self.enabled:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.bar = Progress(SpinnerColumn(finished_text=" "), TextColumn("{task.description}"),
                                TimeElapsedColumn(), console=Console(stderr=True), transient=False)
            self.bar.start()
            self.bar.console.print(self.title)
        return self

    def start(self, label: str):
        if self.bar is None:
            return None
        return self.bar.add_task(label, total=1)

    def update(self, task, text: str) -> None:
        if self.bar is not None and task is not None:
            self.bar.update(task, description=text)

    def finish(self, task, run: StepRun) -> None:
        if self.bar is None:
            return
        mark = MARKS.get(run.status, "?")
        detail = {"done": f"{run.seconds:.2f} s", "cached": "cached"}.get(run.status, run.message)
        text = f"{mark} section {run.section} — {run.title} [dim]({detail})[/]"
        if task is None:
            task = self.bar.add_task(text, total=1)
        self.bar.update(task, description=text, completed=1)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def run(pipeline: Any, session=None, *, progress: bool = True, registry: StepRegistry | None = None,
        report: bool = True, stack: str | None = None) -> RunResult:
    """Run ``pipeline`` (a :class:`PipelineSpec`, a YAML file or a dict) on ``session``
    (default: ``Session()``). The file is checked entirely — schema, then the columns it
    names against the sources' headers — before any work.

    :param progress: show one line per section on stderr.
    :param registry: the steps (default: the built-in ones).
    :param report: write the HTML and JSON run report.
    :param stack: a deployed stack (``infra/core.yaml``) whose outputs replace the bucket,
        role, work group, database, feature groups and alarm topic of the file (default:
        ``artifacts.stack``); see :mod:`aws_ml.pipeline.stack`.
    """
    spec = as_spec(pipeline)
    own_session = session is None
    if own_session:
        from aws_ml import Session

        session = Session()
    try:
        spec = apply_stack(spec, session, stack)
        check_columns(spec, session)
        return _run(spec, session, progress=progress, registry=registry or default_registry(), report=report)
    finally:
        if own_session:
            session.close()


def _run(spec: PipelineSpec, session, *, progress: bool, registry: StepRegistry, report: bool) -> RunResult:
    account = account_of(session)
    bucket = resolve(spec.artifacts.bucket, spec, account, session.region)
    prefix = resolve(spec.artifacts.prefix, spec, account, session.region).strip("/")
    run_id = new_run_id()
    ctx = StepContext(session=session, spec=spec, bucket=bucket, prefix=prefix, account=account, run_id=run_id)
    if session.backend != "local":
        ctx.ensure_bucket()          # the state lives in the artefact bucket
    store = state_store(spec, session, bucket, prefix)
    result = RunResult(run_id, spec.name, spec.source, session.backend, session.region, bucket, prefix,
                       store.location, datetime.now(timezone.utc).isoformat(timespec="seconds"),
                       spec=spec.to_dict())
    started = time.perf_counter()
    keys: dict[str, str] = {}
    outputs: dict[str, dict] = {}
    failed = False
    lock = store.lock()
    with lock, _Progress(progress, f"[bold]pipeline {spec.name}[/] on backend [cyan]{session.backend}[/] "
                                   f"(state: {store.location})") as bar:
        previous = [r for r in store.runs()]
        result.previous_run_id = previous[-1]["run_id"] if previous else None
        for step in registry:
            sr = StepRun(step.name, step.section, step.title, "pending")
            result.steps.append(sr)
            task = None
            t0 = time.perf_counter()
            try:
                if failed:
                    sr.status, sr.message = "not run", "an earlier section failed"
                    continue
                config = step.config(spec, ctx)
                if config is None:
                    sr.status, sr.message = "skipped", "not in the pipeline file"
                    continue
                missing = step.missing_facade()
                if missing:
                    sr.status, sr.message = "unavailable", unavailable_message(step, missing)
                    continue
                lacking = [d for d in step.needs if ctx.statuses.get(d) not in PRODUCED]
                if lacking:
                    d = registry.get(lacking[0])
                    sr.status = "blocked"
                    sr.message = (f"needs section {d.section} ({d.title.lower()}), which is "
                                  f"{ctx.statuses.get(d.name, 'not run')}")
                    continue
                sr.key = step_key(step, config, keys, ctx.statuses, session, bucket, prefix)
                record = store.step_record(step.name, sr.key)
                if record is not None and step.still_valid is not None and \
                        not step.still_valid(ctx, record["outputs"]):
                    record = None          # its resources are gone: compute it again
                if record is not None:
                    sr.status, sr.outputs, sr.notes = "cached", record["outputs"], record.get("notes", [])
                    sr.computed_seconds, sr.computed_in_run = record.get("seconds"), record.get("run_id")
                    continue
                task = bar.start(f"section {step.section} — {step.title}")
                ctx.inputs = {d: outputs[d] for d in step.needs + step.after if d in outputs}
                ctx.notes = []
                ctx.log = lambda text, _t=task, _s=step: bar.update(_t, f"section {_s.section} — {_s.title}: {text}")
                t0 = time.perf_counter()
                produced = step.fn(ctx, config)
                sr.seconds = time.perf_counter() - t0
                sr.outputs = json.loads(json.dumps(produced, default=str))
                sr.notes = list(ctx.notes)
                sr.status = "done"
                sr.computed_seconds, sr.computed_in_run = sr.seconds, run_id
                store.save_step(step.name, sr.key, {"step": step.name, "key": sr.key, "config": config,
                                                    "outputs": sr.outputs, "notes": sr.notes,
                                                    "seconds": sr.seconds, "run_id": run_id,
                                                    "completed_at": datetime.now(timezone.utc).isoformat()})
            except Exception as exc:  # recorded in the result and the report, never swallowed
                sr.seconds = time.perf_counter() - t0
                sr.status = "failed"
                sr.message = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
                sr.outputs = {"traceback": traceback.format_exc(limit=8)}
                failed = True
            finally:
                ctx.statuses[step.name] = sr.status
                if sr.status in PRODUCED:
                    keys[step.name] = sr.key
                    outputs[step.name] = sr.outputs
                bar.finish(task, sr)
        result.seconds = time.perf_counter() - started
        if report:
            from .report import write_report

            write_report(result, store, previous[-1] if previous else None, session)
        store.save_run(result.to_dict())
    return result


def step_key(step, config: dict, keys: dict[str, str], statuses: dict[str, str], session, bucket: str,
             prefix: str) -> str:
    """The cache key of a step: its configuration, its code's version (and aws_ml's), the
    keys of the steps it needs, the keys or statuses of the steps it runs after, and where
    it writes."""
    from aws_ml import __version__

    return digest({"step": step.name, "version": step.version, "aws_ml": __version__, "config": config,
                   "needs": {d: keys[d] for d in step.needs},
                   "after": {d: keys.get(d) or statuses.get(d) for d in step.after},
                   "where": [session.backend, session.region, bucket, prefix]})


def plan(pipeline: Any, session, registry: StepRegistry | None = None,
         stack: str | None = None) -> list[dict[str, str]]:
    """What the next run would do, without doing it: per step ``cached`` (up to date),
    ``run`` (its configuration or an input changed, or it never ran), ``skipped``,
    ``unavailable`` or ``blocked``."""
    spec = apply_stack(as_spec(pipeline), session, stack)
    check_columns(spec, session)
    registry = registry or default_registry()
    account = account_of(session)
    bucket = resolve(spec.artifacts.bucket, spec, account, session.region)
    prefix = resolve(spec.artifacts.prefix, spec, account, session.region).strip("/")
    ctx = StepContext(session=session, spec=spec, bucket=bucket, prefix=prefix, account=account, run_id="plan")
    store = state_store(spec, session, bucket, prefix)
    keys: dict[str, str] = {}
    rows = []
    for step in registry:
        config = step.config(spec, ctx)
        if config is None:
            status, why = "skipped", "not in the pipeline file"
        elif step.missing_facade():
            status, why = "unavailable", unavailable_message(step, step.missing_facade())
        elif any(ctx.statuses.get(d) not in ("run", "cached") for d in step.needs):
            status, why = "blocked", "a step it needs will not produce outputs"
        else:
            keys[step.name] = step_key(step, config, keys, ctx.statuses, session, bucket, prefix)
            cached = store.step_record(step.name, keys[step.name]) is not None
            status, why = ("cached", "up to date") if cached else ("run", "never ran with these inputs")
        ctx.statuses[step.name] = status
        rows.append({"section": step.section, "name": step.name, "title": step.title, "next": status, "why": why})
    return rows


def load_run(spec: PipelineSpec, session, run_id: str | None = None, stack: str | None = None) -> RunResult | None:
    """A recorded run of ``spec`` (the latest when ``run_id`` is None; ``stack``: runs made on it)."""
    spec = apply_stack(spec, session, stack)
    account = account_of(session)
    bucket = resolve(spec.artifacts.bucket, spec, account, session.region)
    prefix = resolve(spec.artifacts.prefix, spec, account, session.region).strip("/")
    store = state_store(spec, session, bucket, prefix)
    ids = store.run_ids()
    if not ids:
        return None
    data = store.load_run(run_id or ids[-1])
    return RunResult.from_dict(data) if data else None
