"""``aws-ml label list | serve``: the labelling jobs, and the Ground Truth worker portal.

Where Ground Truth's labelling jobs are served by the local backend (``--backend local``,
and ``moto``, which routes them there), ``label serve`` runs the local worker portal
(:mod:`local_backends.sagemaker.labeling.portal`) in the foreground over the session's
state root until Ctrl-C. Where they are served by AWS, the portal is AWS's own: the
command prints each work team's portal URL (``DescribeWorkteam``'s ``SubDomain``) instead.
"""
from __future__ import annotations

import sys
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from .cli_output import rows_table

label_app = typer.Typer(help="Ground Truth labelling jobs and the worker portal.", no_args_is_help=True)
err = Console(stderr=True)


def _state():
    from .cli import state
    return state


def _emit(data, table: Table | None = None) -> None:
    from .cli import emit
    emit(data, table)


def serves_locally(session) -> bool:
    """Whether this session's labelling jobs run in the local backend (its portal is ours)."""
    return session.backend_for("sagemaker", "CreateLabelingJob") == "local"


def team_of(session, job: str) -> str:
    """The work team name of labelling job ``job`` (``ValidationException`` if there is none)."""
    desc = session.client("sagemaker").describe_labeling_job(LabelingJobName=job)
    return desc["HumanTaskConfig"]["WorkteamArn"].rsplit("/", 1)[-1]


def aws_portals(session, job: str | None = None) -> list[dict]:
    """The work teams' own portals (AWS's): ``https://<SubDomain>`` of each team, or of the
    team of ``job``."""
    sm = session.client("sagemaker")
    if job is not None:
        names = [team_of(session, job)]
    else:
        names = [t["WorkteamName"] for page in sm.get_paginator("list_workteams").paginate()
                 for t in page["Workteams"]]
    rows = []
    for name in names:
        team = sm.describe_workteam(WorkteamName=name)["Workteam"]
        rows.append({"workteam": name, "portal": f"https://{team['SubDomain']}", "arn": team["WorkteamArn"]})
    return rows


def local_links(session, base_url: str, job: str | None = None) -> list[dict]:
    """The portal pages of the human workers: each worker's job list, or, with ``job``,
    the page where each worker of the job's team labels it."""
    from urllib.parse import quote

    from local_backends.sagemaker.labeling import local_labeling

    team = team_of(session, job) if job else None
    rows = []
    for w in local_labeling(session).list_workers(team):
        if w["Kind"] != "human":
            continue
        page = f"{base_url}/workers/{quote(w['WorkerId'])}"
        if job:
            page += f"/jobs/{session.region}/{quote(job)}"
        rows.append({"worker": w["Name"], "workteam": w["Workteam"], "url": page})
    return rows


@label_app.command("list")
def label_list() -> None:
    """The labelling jobs (``ListLabelingJobs``): status, counters, work team."""
    with _state().session() as session:
        sm = session.client("sagemaker")
        rows = []
        for page in sm.get_paginator("list_labeling_jobs").paginate():
            for j in page["LabelingJobSummaryList"]:
                counters = j.get("LabelCounters") or {}
                rows.append({"name": j["LabelingJobName"], "status": j["LabelingJobStatus"],
                             "labeled": counters.get("TotalLabeled", 0), "unlabeled": counters.get("Unlabeled", 0),
                             "workteam": j.get("WorkteamArn", "").rsplit("/", 1)[-1],
                             "created": str(j.get("CreationTime", ""))})
    _emit(rows, rows_table(rows, "labeling jobs", ("name", "status", "labeled", "unlabeled", "workteam", "created"),
                           right=("labeled", "unlabeled")))


@label_app.command("serve")
def label_serve(
    job: Optional[str] = typer.Option(None, "--job", help="show the links of this labelling job's workers"),
    port: int = typer.Option(0, "--port", min=0, max=65535, help="the port (default: a free one)"),
    host: str = typer.Option("127.0.0.1", "--host", help="the address to listen on"),
    open_it: bool = typer.Option(False, "--open/--no-open", help="open the portal in the web browser"),
) -> None:
    """Run the worker portal of this backend's labelling jobs until Ctrl-C (on AWS: print
    the work teams' own portal URLs)."""
    st = _state()
    with st.session() as session:
        if not serves_locally(session):
            rows = aws_portals(session, job)
            if not rows:
                err.print("aws-ml: no work team in this account and region: create one "
                          "(CreateWorkteam) to label with people", highlight=False)
                raise typer.Exit(1)
            if st.output.value == "table" and not st.quiet:
                err.print(f"Labelling jobs here are served by {session.backend_for('sagemaker', 'CreateLabelingJob')}: "
                          "workers sign in to the work team's own portal.", highlight=False)
            _emit(rows, rows_table(rows, "work team portals", ("workteam", "portal", "arn")))
            if open_it:
                import webbrowser
                webbrowser.open(rows[0]["portal"])
            return
        _serve_local(session, job, port, host, open_it)


def _serve_local(session, job: str | None, port: int, host: str, open_it: bool) -> None:
    from local_backends.sagemaker.labeling.portal.app import PortalServer

    st = _state()
    if job is not None:
        team_of(session, job)             # an unknown job fails here, as AWS answers it
    server = PortalServer(session.home, port=port, host=host)
    server.sock.listen(128)              # connections wait in the backlog until uvicorn runs
    try:
        links = local_links(session, server.url, job)
        data = {"portal": server.url, "home": str(session.home), "job": job, "workers": links}
        if st.output.value == "json":
            _emit(data)
        else:
            typer.echo(f"labeling portal: {server.url}")
            for link in links:
                typer.echo(f"  {link['worker']} ({link['workteam']}): {link['url']}")
            if not links and not st.quiet:
                err.print("aws-ml: no human worker is registered"
                          + (f" in the team of {job}" if job else "")
                          + ": the portal lists none (register one with the local backend's add_worker)",
                          highlight=False)
            if not st.quiet:
                err.print("Press Ctrl-C to stop.", highlight=False)
        sys.stdout.flush()
        if open_it:
            import webbrowser
            webbrowser.open(links[0]["url"] if links else server.url)
        try:
            # uvicorn handles SIGINT / SIGTERM: it stops accepting, finishes the requests in
            # flight, then raises the signal again (KeyboardInterrupt): Ctrl-C is how it stops
            server.server.run(sockets=[server.sock])
        except KeyboardInterrupt:
            pass
    finally:
        server.sock.close()
    if not st.quiet:
        err.print("labeling portal stopped", highlight=False)
