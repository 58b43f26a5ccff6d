"""``aws-ml dashboard [PIPELINE_FILE]``: the dashboards of a pipeline run — section 3's
data-evaluation dashboard, section 7's model-evaluation report and, when the run published
one, the QuickSight dashboard (on the local backend rendered again from live Athena data).

The HTML files are fetched from S3 (where the run wrote them) into
``<home>/dashboards/<pipeline>/<run id>/``; ``--serve`` serves that folder on 127.0.0.1
until Ctrl-C, ``--open`` opens the first one in the web browser.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

err = Console(stderr=True)

# (step, path of the S3 URI in the step's outputs, file name, what it is)
DASHBOARDS = (
    ("evaluation", ("artifacts", "dashboard"), "data-evaluation.html", "data-evaluation dashboard (section 3)"),
    ("monitoring", ("artifacts", "report"), "model-evaluation.html", "model-evaluation report (section 7)"),
)


class DashboardError(Exception):
    """A run without the dashboard asked for (one line for the CLI)."""


def _dig(outputs: dict, path: tuple[str, ...]):
    for key in path:
        if not isinstance(outputs, dict):
            return None
        outputs = outputs.get(key)
    return outputs


def _quicksight(result) -> tuple[str, dict] | None:
    """The QuickSight dashboard a run published: a step output ``quicksight`` holding
    :func:`aws_ml.evaluation.quicksight.publish_dashboard`'s answer (``dashboard_id``...)."""
    for step in result.steps:
        qs = (step.outputs or {}).get("quicksight") if step.status in ("done", "cached") else None
        if isinstance(qs, dict) and qs.get("dashboard_id"):
            return step.name, qs
    return None


def collect(session, result, folder: Path) -> list[dict]:
    """Fetch the run's dashboards into ``folder``; one row per dashboard: what it is, where
    it came from and the local file."""
    from .pipeline.runner import account_of

    folder.mkdir(parents=True, exist_ok=True)
    s3 = session.client("s3")
    rows = []
    for step_name, path, file_name, what in DASHBOARDS:
        try:
            step = result.step(step_name)
        except KeyError:
            continue
        uri = _dig(step.outputs or {}, path) if step.status in ("done", "cached") else None
        if not uri:
            continue
        bucket, _, key = uri[5:].partition("/")
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        (folder / file_name).write_bytes(body)
        rows.append({"dashboard": what, "source": uri, "file": str(folder / file_name)})
    published = _quicksight(result)
    if published is not None:
        step_name, qs = published
        what = f"QuickSight dashboard {qs['dashboard_id']} (section {result.step(step_name).section})"
        if session.backend_for("quicksight") == "local":
            qs_client = session.client("quicksight")
            url = qs_client.get_dashboard_embed_url(AwsAccountId=account_of(session), DashboardId=qs["dashboard_id"],
                                                    IdentityType="IAM")["EmbedUrl"]   # rendered now, live data
            target = folder / "quicksight.html"
            shutil.copyfile(Path(url[len("file://"):]), target)
            rows.append({"dashboard": what + ", rendered from live Athena data", "source": qs.get("arn", ""),
                         "file": str(target)})
        else:
            rows.append({"dashboard": what, "source": qs.get("arn", ""), "file": "",
                         "url": qs.get("embed_url", "")})
    for r in rows:
        r.setdefault("url", Path(r["file"]).resolve().as_uri() if r["file"] else "")
    return rows


def dashboard_command(
    pipeline_file: Optional[Path] = typer.Argument(None, help="the pipeline file (default: the bundled fraud pipeline)"),
    run_id: Optional[str] = typer.Option(None, "--run", help="a run id (default: the latest)"),
    serve: bool = typer.Option(False, "--serve/--no-serve", help="serve the dashboards on 127.0.0.1 until Ctrl-C"),
    port: int = typer.Option(0, "--port", min=0, max=65535, help="the port of --serve (default: a free one)"),
    host: str = typer.Option("127.0.0.1", "--host", help="the address --serve listens on"),
    open_it: bool = typer.Option(False, "--open", help="open the first dashboard in the web browser"),
) -> None:
    """The data-evaluation dashboard and model-evaluation report of a pipeline's last run
    (and its QuickSight dashboard, if it published one): their files, or served over HTTP."""
    from .cli import emit, state
    from .pipeline import example_path
    from .pipeline.cli import _load
    from .pipeline.runner import load_run

    spec = _load(pipeline_file if pipeline_file is not None else example_path("fraud"))
    with state.session() as session:
        result = load_run(spec, session, run_id)
        if result is None:
            raise DashboardError(f"pipeline {spec.name} has no run" + (f" {run_id}" if run_id else "")
                                 + f" on backend {session.backend}: run `aws-ml run {spec.source}` first")
        folder = session.home / "dashboards" / spec.name / result.run_id
        rows = collect(session, result, folder)
    if not rows:
        raise DashboardError(f"run {result.run_id} of pipeline {spec.name} produced no dashboard "
                             "(sections 3 and 7 did not run)")
    server = None
    if serve:
        server = _Server(folder, host, port)
        for r in rows:
            if r["file"]:
                r["url"] = f"{server.url}/{Path(r['file']).name}"
    table = Table(title=f"dashboards of pipeline {spec.name}, run {result.run_id}")
    for col in ("dashboard", "url"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["dashboard"], r["url"])
    emit(rows, table)
    sys.stdout.flush()
    if open_it:
        import webbrowser
        webbrowser.open(rows[0]["url"])
    if server is not None:
        if not state.quiet:
            err.print(f"serving {folder} on {server.url} — press Ctrl-C to stop.", highlight=False)
        server.run()


class _Server:
    """A static HTTP server of one folder, in the foreground until SIGINT / SIGTERM."""

    def __init__(self, folder: Path, host: str, port: int) -> None:
        import functools
        from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

        class Quiet(SimpleHTTPRequestHandler):
            def log_message(self, *args) -> None:       # no access log on stderr
                pass

        self.httpd = ThreadingHTTPServer((host, port), functools.partial(Quiet, directory=str(folder)))
        self.url = f"http://{host}:{self.httpd.server_address[1]}"

    def run(self) -> None:
        import signal

        previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            self.httpd.serve_forever()
        except KeyboardInterrupt:
            err.print("dashboard server stopped", highlight=False)
        finally:
            signal.signal(signal.SIGTERM, previous)
            self.httpd.server_close()
