"""``aws-ml``: the command line of aws_ml (typer + rich), with the AWS CLI's conventions:
``--backend``, ``--region``, ``--profile``, ``--output json|table|text``; errors as one line
on stderr and a non-zero exit code (the traceback only with ``--debug``)."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from .cli_output import Output, rows_table

from . import __version__
from .session import Session, default_home

app = typer.Typer(help="Run the machine-learning pipeline as it is built on AWS, locally or on AWS.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
backend_app = typer.Typer(help="Which backend serves which AWS service.", no_args_is_help=True)
app.add_typer(backend_app, name="backend")


def _mount_infra_commands() -> None:
    """``aws-ml infra validate | deploy | diff | outputs | destroy``."""
    from .infra_cli import app as infra_app

    app.add_typer(infra_app, name="infra")


_mount_infra_commands()


def _mount_resource_commands() -> None:
    """``aws-ml endpoints ...`` and ``aws-ml jobs ...``."""
    from .resources_cli import endpoints_app, jobs_app

    app.add_typer(endpoints_app, name="endpoints")
    app.add_typer(jobs_app, name="jobs")


_mount_resource_commands()


def _mount_pipeline_commands() -> None:
    """``run``, ``status``, ``report`` and ``sections`` at the top level (``aws-ml run ...``)."""
    from .pipeline.cli import app as pipeline_app

    for command in pipeline_app.registered_commands:
        app.registered_commands.append(command)


_mount_pipeline_commands()


def _mount_label_and_dashboard_commands() -> None:
    """``aws-ml label list | serve`` and ``aws-ml dashboard``."""
    from .dashboard_cli import dashboard_command
    from .label_cli import label_app

    app.add_typer(label_app, name="label")
    app.command("dashboard")(dashboard_command)


_mount_label_and_dashboard_commands()

out = Console()
err = Console(stderr=True)


def _current_context():
    """The running command's context (typer ships its own copy of click)."""
    try:
        from typer._click.globals import get_current_context
    except ImportError:  # a typer that uses click itself
        from click import get_current_context
    return get_current_context(silent=True)


class State:
    backend: Optional[str] = None
    region: Optional[str] = None
    profile: Optional[str] = None
    home: Optional[Path] = None
    output: Output = Output.table
    quiet: bool = False
    debug: bool = False
    root: object = None  # the click context of the invocation these options belong to

    def active(self) -> bool:
        """Whether the running command was invoked through the main ``aws-ml`` app (its
        global options apply), not through a sub-app on its own."""
        ctx = _current_context()
        return ctx is not None and ctx.find_root() is self.root

    def session(self) -> Session:
        return Session(backend=self.backend, region=self.region, profile=self.profile, home=self.home)


state = State()


@app.callback()
def main_options(
    ctx: typer.Context,
    backend: Optional[str] = typer.Option(None, "--backend", envvar="AWS_ML_BACKEND",
                                          help="local | moto | localstack | aws (default: local)"),
    region: Optional[str] = typer.Option(None, "--region", help="AWS region (default: us-east-1)"),
    profile: Optional[str] = typer.Option(None, "--profile", help="AWS profile (aws backend)"),
    home: Optional[Path] = typer.Option(None, "--home", envvar="AWS_ML_HOME",
                                        help="local state root (default: ~/.aws_ml)"),
    output: Output = typer.Option(Output.table, "--output", help="json | table | text"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress, only results"),
    debug: bool = typer.Option(False, "--debug", help="show tracebacks"),
    version: bool = typer.Option(False, "--version", help="print the version and exit", is_eager=True),
) -> None:
    if version:
        out.print(f"aws-ml {__version__}")
        raise typer.Exit()
    state.backend, state.region, state.profile, state.home = backend, region, profile, home
    state.output, state.quiet, state.debug = output, quiet, debug
    state.root = ctx.find_root()


def emit(data: Any, table: Table | None = None) -> None:
    """Print a result the way ``--output`` asks."""
    if state.output is Output.json or table is None:
        out.print_json(json.dumps(data, default=str))
    elif state.output is Output.table:
        out.print(table)
    else:
        for record in (data if isinstance(data, list) else [data]):
            out.print("\t".join(str(v) for v in (record.values() if isinstance(record, dict) else [record])))


@app.command()
def demo() -> None:
    """Run the bundled fraud-detection pipeline (all eight sections) on the chosen backend.

    The same as ``aws-ml run examples/fraud_pipeline.yaml``: cached, so a second run
    redoes nothing; the HTML run report's path is printed at the end.
    """
    from .pipeline.cli import run_command
    from .pipeline import example_path

    run_command(example_path("fraud"), backend=None, quiet=state.quiet,
                output=state.output if state.output is not Output.table else None)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True,
                                "help_option_names": []})
def aws(ctx: typer.Context) -> None:
    """Run the AWS CLI on the chosen backend: ``aws-ml aws s3 ls s3://bucket/``."""
    from .awscli import run_aws_cli

    session = state.session()
    code = run_aws_cli(list(ctx.args), session)
    raise typer.Exit(code)


@backend_app.command("info")
def backend_info(services: list[str] = typer.Argument(None, help="services to show (default: the pipeline's)")) -> None:
    """Show which backend serves each service in this session."""
    import local_backends

    names = services or ["s3", "cloudwatch", "logs", "glue", "athena", "sagemaker", "sagemaker-runtime",
                         "sagemaker-featurestore-runtime", "comprehend", "quicksight", "cloudformation",
                         "iam", "sns", "sts"]
    session = state.session()
    rows = []
    for name in names:
        backend = session.backend_for(name)
        local = ""
        if backend == "local":
            try:
                cls = local_backends.backend_class(name)
                n = len(cls.implemented_operations())
                local = f"{n} operation{'' if n == 1 else 's'}"
            except local_backends.NotImplementedByBackend:
                local = "no local backend: every call fails, naming the operation"
            except (ImportError, AttributeError) as exc:  # shown to the user, not swallowed
                local = f"not importable: {exc}"
        rows.append({"service": name, "backend": backend, "local backend": local})
    session.close()
    emit(rows, rows_table(rows, f"backend {session.backend}, region {session.region}",
                          ("service", "backend", "local backend")))


@app.command()
def home(clean: bool = typer.Option(False, "--clean", help="delete all local state"),
         yes: bool = typer.Option(False, "--yes", help="do not ask before --clean")) -> None:
    """Where local state lives and how big it is (``--clean`` deletes it)."""
    root = Path(state.home) if state.home else default_home()
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.exists() else 0
    if clean:
        if root.exists() and not yes:
            typer.confirm(f"Delete {root} ({size / 1e6:.1f} MB)?", abort=True)
        if root.exists():
            shutil.rmtree(root)
        emit({"home": str(root), "deleted_bytes": size})
        return
    services = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.exists() else []
    data = {"home": str(root), "bytes": size, "services": services}
    table = Table(show_header=False)
    for k, v in data.items():
        table.add_row(k, str(v))
    emit(data, table)


def main() -> None:
    """Entry point: one clear line and exit code 1 on error (traceback with --debug)."""
    try:
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Abort:
        err.print("Aborted.")
        sys.exit(1)
    except SystemExit:
        raise
    except Exception as exc:  # the CLI's one place that turns errors into a line
        if "--debug" in sys.argv:
            raise
        try:
            from typer._click import exceptions as click_exceptions  # typer ships its own click
        except ImportError:
            from click import exceptions as click_exceptions
        if isinstance(exc, click_exceptions.UsageError):
            exc.show()
            sys.exit(2)
        if isinstance(exc, click_exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        err.print(f"[red]aws-ml: error:[/] {type(exc).__name__}: {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    # ``python -m aws_ml.cli``: run the package's module, not this ``__main__`` copy, so that
    # the pipeline commands see the same global options.
    from aws_ml.cli import main as _main
    _main()
