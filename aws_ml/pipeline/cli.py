"""``aws-ml pipeline ...``: run a pipeline file, see the state of its last run, open its
report, list the sections.

Mounted on the main CLI (``aws_ml/cli.py``) with::

    from .pipeline.cli import app as pipeline_app
    app.add_typer(pipeline_app, name="pipeline")

The global options of ``aws-ml`` (``--backend``, ``--region``, ``--home``, ``--output``,
``--quiet``) apply; ``run`` also takes ``--backend``, ``--quiet`` and ``--output`` itself.
A bad pipeline file is one line on stderr and exit code 2, before any work.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from ..cli_output import Output

app = typer.Typer(help="The whole pipeline in one command: run a pipeline file, cached and resumable.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
out = Console()
err = Console(stderr=True)


def _main_state():
    """The main CLI's global options, when mounted there."""
    try:
        from aws_ml.cli import state
    except ImportError:  # pragma: no cover - the sub-app used on its own
        return None
    return state if state.active() else None


def _session(backend: Optional[str]):
    from aws_ml import Session

    st = _main_state()
    return Session(backend=backend or (st.backend if st else None), region=st.region if st else None,
                   profile=st.profile if st else None, home=st.home if st else None)


def _output(output: Optional[Output]) -> Output:
    st = _main_state()
    if output is not None:
        return output
    return Output(st.output.value) if st is not None else Output.table


def resolve_file(path: Path) -> Path:
    """``path`` as given, else the bundled example of that name
    (``examples/fraud_pipeline.yaml`` works from any directory)."""
    from . import EXAMPLES

    if path.exists():
        return path
    for candidate in (EXAMPLES.parent / path, EXAMPLES / path.name):
        if candidate.exists():
            return candidate
    return path


def _load(path: Path):
    from .spec import PipelineFileError, load_pipeline

    try:
        return load_pipeline(resolve_file(path))
    except PipelineFileError as exc:
        err.print(f"[red]aws-ml: error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


@app.command("run")
def run_command(
    pipeline_file: Path = typer.Argument(..., help="the pipeline file (YAML)"),
    backend: Optional[str] = typer.Option(None, "--backend", help="local | moto | localstack | aws"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress, only the result"),
    output: Optional[Output] = typer.Option(None, "--output", help="json | table | text"),
    stack: Annotated[Optional[str], typer.Option(
        "--stack", help="a deployed core stack (infra/core.yaml) whose outputs give the bucket, role, "
                        "work group, database, feature groups and alarm topic")] = None,
) -> None:
    """Run every section of PIPELINE_FILE; unchanged sections come from the cache.
    With --stack, on the resources of a deployed stack (``aws-ml infra deploy``)."""
    from .runner import run
    from .spec import PipelineFileError, check_columns
    from .stack import StackError, apply_stack

    spec = _load(pipeline_file)
    fmt = _output(output)
    st = _main_state()
    quiet = quiet or bool(st and st.quiet) or fmt is Output.json
    with _session(backend) as session:
        try:
            spec = apply_stack(spec, session, stack)
            check_columns(spec, session)
        except (PipelineFileError, StackError) as exc:
            err.print(f"[red]aws-ml: error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        result = run(spec, session, progress=not quiet)
    if fmt is Output.json:
        data = result.to_dict()
        for s in data["steps"]:
            s["outputs"].pop("traceback", None)
        out.print_json(json.dumps(data, default=str))
    else:
        _print_steps(result.to_dict(), fmt)
        out.print(f"report: {result.report_html}", highlight=False, soft_wrap=True)
    if not result.ok:
        raise typer.Exit(1)


def _print_steps(run: dict, fmt: Output) -> None:
    if fmt is Output.text:
        for s in run["steps"]:
            typer.echo("\t".join([str(s["section"]), s["name"], s["status"], f"{s['seconds']:.2f}", s["message"]]))
        return
    table = Table(title=f"pipeline {run['pipeline']} — run {run['run_id']} on {run['backend']} "
                        f"({run['seconds']:.2f} s)")
    for col in ("#", "section", "status", "seconds", "detail"):
        table.add_column(col, justify="right" if col in ("#", "seconds") else "left")
    for s in run["steps"]:
        table.add_row(str(s["section"]), s["title"], s["status"], f"{s['seconds']:.2f}", s["message"])
    out.print(table)


@app.command("status")
def status_command(
    pipeline_file: Path = typer.Argument(..., help="the pipeline file (YAML)"),
    backend: Optional[str] = typer.Option(None, "--backend", help="local | moto | localstack | aws"),
    output: Optional[Output] = typer.Option(None, "--output", help="json | table | text"),
    stack: Annotated[Optional[str], typer.Option(
        "--stack", help="the deployed core stack the pipeline ran on (its bucket holds the run state)")] = None,
) -> None:
    """The last run of PIPELINE_FILE (each section's status and time) and what the next
    run would do (which sections are up to date, which would run)."""
    from .runner import load_run, plan
    from .spec import PipelineFileError
    from .stack import StackError

    spec = _load(pipeline_file)
    fmt = _output(output)
    with _session(backend) as session:
        try:
            result = load_run(spec, session, stack=stack)
            upcoming = plan(spec, session, stack=stack)
        except (PipelineFileError, StackError) as exc:
            err.print(f"[red]aws-ml: error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
    if fmt is Output.json:
        last = {k: v for k, v in result.to_dict().items() if k != "spec"} if result else None
        out.print_json(json.dumps({"last_run": last, "next_run": upcoming}, default=str))
        return
    if result is None:
        out.print(f"pipeline {spec.name} has not run yet on this backend")
    else:
        _print_steps(result.to_dict(), fmt)
        out.print(f"report: {result.report_html}", highlight=False, soft_wrap=True)
    if fmt is Output.text:
        for r in upcoming:
            typer.echo("\t".join(["next", str(r["section"]), r["name"], r["next"], r["why"]]))
        return
    table = Table(title="the next run")
    for col in ("#", "section", "next run", "why"):
        table.add_column(col)
    for r in upcoming:
        table.add_row(str(r["section"]), r["title"], r["next"], r["why"])
    out.print(table)


@app.command("report")
def report_command(
    pipeline_file: Path = typer.Argument(..., help="the pipeline file (YAML)"),
    run_id: Optional[str] = typer.Option(None, "--run", help="a run id (default: the latest)"),
    open_it: bool = typer.Option(False, "--open", help="open the report in the web browser"),
    backend: Optional[str] = typer.Option(None, "--backend", help="local | moto | localstack | aws"),
    stack: Annotated[Optional[str], typer.Option(
        "--stack", help="the deployed core stack the pipeline ran on (its bucket holds the run state)")] = None,
) -> None:
    """Print the path of a run's HTML report (``--open`` opens it)."""
    import tempfile
    import webbrowser

    from .runner import load_run
    from .stack import StackError

    spec = _load(pipeline_file)
    with _session(backend) as session:
        try:
            result = load_run(spec, session, run_id, stack=stack)
        except StackError as exc:
            err.print(f"[red]aws-ml: error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        if result is None or not result.report_html:
            err.print(f"pipeline {spec.name} has no report" + (f" for run {run_id}" if run_id else ""))
            raise typer.Exit(1)
        path = result.report_html
        if path.startswith("s3://"):
            bucket, _, key = path[5:].partition("/")
            body = session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
            local = Path(tempfile.mkdtemp(prefix="aws-ml-report-")) / "report.html"
            local.write_bytes(body)
            path = str(local)
    out.print(path, highlight=False, soft_wrap=True)
    if open_it:
        webbrowser.open(Path(path).resolve().as_uri())


@app.command("sections")
def sections_command(output: Optional[Output] = typer.Option(None, "--output", help="json | table | text")) -> None:
    """The sections (steps) a pipeline runs, and whether this version of aws_ml has each."""
    from .steps import default_registry

    rows = []
    for step in default_registry():
        missing = step.missing_facade()
        rows.append({"section": step.section, "name": step.name, "title": step.title,
                     "needs": list(step.needs), "after": list(step.after), "facade": list(step.requires),
                     "available": missing is None, "missing": missing})
    fmt = _output(output)
    if fmt is Output.json:
        out.print_json(json.dumps(rows))
        return
    if fmt is Output.text:
        for r in rows:
            typer.echo("\t".join([str(r["section"]), r["name"], r["title"], "available" if r["available"]
                                  else f"not available ({r['missing']})"]))
        return
    table = Table(title="pipeline sections")
    for col in ("#", "step", "section", "needs", "facade", "available"):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r["section"]), r["name"], r["title"], ", ".join(r["needs"]) or "-",
                      ", ".join(r["facade"]) or "-", "yes" if r["available"] else f"no ({r['missing']})")
    out.print(table)


if __name__ == "__main__":  # pragma: no cover
    app()
