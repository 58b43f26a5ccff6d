"""``aws-ml endpoints ...`` and ``aws-ml jobs ...``: the pipeline's running resources, through
boto3 on whatever backend the global options choose."""
from __future__ import annotations

import json
import sys
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from .cli_output import rows_table

endpoints_app = typer.Typer(help="SageMaker endpoints: list, invoke, url, logs.", no_args_is_help=True)
jobs_app = typer.Typer(help="Training, tuning, AutoML and labelling jobs: list, describe, logs, stop.",
                       no_args_is_help=True)
out = Console()

# kind -> (list operation, result key, name key, status key, describe operation, name param, stop operation)
JOB_KINDS = {
    "training": ("list_training_jobs", "TrainingJobSummaries", "TrainingJobName", "TrainingJobStatus",
                 "describe_training_job", "TrainingJobName", "stop_training_job"),
    "tuning": ("list_hyper_parameter_tuning_jobs", "HyperParameterTuningJobSummaries",
               "HyperParameterTuningJobName", "HyperParameterTuningJobStatus",
               "describe_hyper_parameter_tuning_job", "HyperParameterTuningJobName",
               "stop_hyper_parameter_tuning_job"),
    "automl": ("list_auto_ml_jobs", "AutoMLJobSummaries", "AutoMLJobName", "AutoMLJobStatus",
               "describe_auto_ml_job_v2", "AutoMLJobName", "stop_auto_ml_job"),
    "labeling": ("list_labeling_jobs", "LabelingJobSummaryList", "LabelingJobName", "LabelingJobStatus",
                 "describe_labeling_job", "LabelingJobName", "stop_labeling_job"),
}
LOG_GROUPS = {"training": "/aws/sagemaker/TrainingJobs"}


def _state():
    from .cli import state
    return state


def _emit(data, table: Table | None = None) -> None:
    from .cli import emit
    emit(data, table)


def _print_logs(session, group: str, prefix: str, limit: int) -> None:
    logs = session.client("logs")
    events = []
    kwargs = {"logStreamNamePrefix": prefix} if prefix else {}
    for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group, **kwargs):
        events += page["events"]
    for e in events[-limit:]:
        typer.echo(f"{e['logStreamName']}\t{e['message'].rstrip()}")


# -- endpoints ----------------------------------------------------------------------------
@endpoints_app.command("list")
def endpoints_list() -> None:
    """The endpoints, their status, and (served locally) their URL."""
    from . import serving

    with _state().session() as session:
        sm = session.client("sagemaker")
        rows = []
        for page in sm.get_paginator("list_endpoints").paginate():
            for e in page["Endpoints"]:
                url = ""
                if session.backend_for("sagemaker-runtime") == "local" and e["EndpointStatus"] == "InService":
                    url = serving.endpoint_url(session, e["EndpointName"])
                rows.append({"name": e["EndpointName"], "status": e["EndpointStatus"],
                             "created": str(e["CreationTime"]), "url": url})
    _emit(rows, rows_table(rows, "endpoints", ("name", "status", "created", "url")))


@endpoints_app.command("invoke")
def endpoints_invoke(name: str, body: str = typer.Argument(..., help="the request body ('-' reads stdin)"),
                     content_type: str = typer.Option("text/csv", "--content-type"),
                     accept: Optional[str] = typer.Option(None, "--accept")) -> None:
    """Send BODY to endpoint NAME through sagemaker-runtime and print the answer."""
    data = sys.stdin.buffer.read() if body == "-" else body.encode()
    kwargs = {"Accept": accept} if accept else {}
    with _state().session() as session:
        res = session.client("sagemaker-runtime").invoke_endpoint(
            EndpointName=name, Body=data, ContentType=content_type, **kwargs)
        typer.echo(res["Body"].read().decode(errors="replace").rstrip())


@endpoints_app.command("url")
def endpoints_url(name: str) -> None:
    """The model server's URL (``curl -d ... <url>/invocations``), for endpoints served locally."""
    from . import serving

    with _state().session() as session:
        typer.echo(serving.endpoint_url(session, name))


@endpoints_app.command("logs")
def endpoints_logs(name: str, limit: int = typer.Option(50, "--limit", help="the last N lines")) -> None:
    """The endpoint's log lines from CloudWatch Logs (``/aws/sagemaker/Endpoints/<name>``)."""
    with _state().session() as session:
        session.client("sagemaker").describe_endpoint(EndpointName=name)  # ships new server output
        _print_logs(session, f"/aws/sagemaker/Endpoints/{name}", "", limit)


# -- jobs ---------------------------------------------------------------------------------
def _kind(kind: str) -> tuple:
    if kind not in JOB_KINDS:
        raise typer.BadParameter(f"must be one of {', '.join(JOB_KINDS)}", param_hint="KIND")
    return JOB_KINDS[kind]


@jobs_app.command("list")
def jobs_list(kind: str = typer.Argument("training", help="training | tuning | automl | labeling")) -> None:
    """The jobs of one kind, in the order the API lists them."""
    op, key, name_key, status_key, *_ = _kind(kind)
    with _state().session() as session:
        sm = session.client("sagemaker")
        rows = [{"name": j[name_key], "status": j[status_key], "created": str(j.get("CreationTime", ""))}
                for page in sm.get_paginator(op).paginate() for j in page[key]]
    _emit(rows, rows_table(rows, f"{kind} jobs", ("name", "status", "created")))


@jobs_app.command("describe")
def jobs_describe(kind: str, name: str) -> None:
    """The job's full description, as the AWS API returns it."""
    *_, describe, param, _stop = _kind(kind)
    with _state().session() as session:
        res = getattr(session.client("sagemaker"), describe)(**{param: name})
    res.pop("ResponseMetadata", None)
    out.print_json(json.dumps(res, default=str))


@jobs_app.command("logs")
def jobs_logs(kind: str, name: str, limit: int = typer.Option(100, "--limit", help="the last N lines")) -> None:
    """A training job's log lines from CloudWatch Logs."""
    _kind(kind)
    if kind not in LOG_GROUPS:
        raise typer.BadParameter(f"logs are kept for {', '.join(LOG_GROUPS)} jobs", param_hint="KIND")
    with _state().session() as session:
        _print_logs(session, LOG_GROUPS[kind], f"{name}/", limit)


@jobs_app.command("stop")
def jobs_stop(kind: str, name: str) -> None:
    """Stop a running job."""
    *_, param, stop = _kind(kind)
    with _state().session() as session:
        getattr(session.client("sagemaker"), stop)(**{param: name})
    typer.echo(f"{kind} job {name}: stop requested")
