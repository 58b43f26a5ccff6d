"""The worker portal: a Starlette app on 127.0.0.1 where registered workers see their tasks
and answer them in the job's own template.

Routes: ``/`` (choose a worker), ``/workers/{id}`` (the jobs with tasks for that worker),
``/workers/{id}/jobs/{region}/{job}`` (the worker's current task, rendered from the job's
Liquid template; AWS's ``crowd-html-elements.js`` is swapped for :file:`static/crowd-html-elements.js`),
``POST /workers/{id}/jobs/{region}/{job}/tasks/{index}`` (the answer, stored as AWS's worker
response) and ``/static/...``. Images named by ``grant_read_access`` are presigned URLs of the
local S3's presign server. State is the shared SQLite file, so the portal may run in its own
process (``python -m local_backends.sagemaker.labeling.portal --home DIR``).
"""
from __future__ import annotations

import html
import json
import re
import socket
import threading
import time
from pathlib import Path
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import templates
from ..answers import AnswerError
from ..engine import LabelingEngine, TaskUnavailable
from ..manifest import split_s3_uri
from ..store import PENDING, open_store

STATIC = Path(__file__).with_name("static")
_SCRIPT = re.compile(r"<script([^>]*)src=[\"']" + re.escape(templates.CROWD_JS_URL) + r"[\"']([^>]*)>", re.I)


def _page(title: str, body: str, extra_head: str = "") -> HTMLResponse:
    return HTMLResponse(f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}</title>{extra_head}
<style>body{{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:70em;padding:0 1em}}
header{{display:flex;justify-content:space-between;border-bottom:1px solid #ddd;margin-bottom:1em}}
table{{border-collapse:collapse}}td,th{{padding:.3em .8em;border-bottom:1px solid #eee;text-align:left}}</style>
</head><body><header><strong>Labeling portal (local Ground Truth)</strong><a href="/">Workers</a></header>
{body}</body></html>""")


class Portal:
    """The portal's state: the labelling store and S3 clients of the same state root."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self.store = open_store(self.home)
        self._clients: dict[str, object] = {}
        self._lock = threading.Lock()
        self.engine = LabelingEngine(self.store, self.s3)

    def s3(self, region: str):
        with self._lock:
            client = self._clients.get(region)
            if client is None:
                from local_backends.core.base import get_backend
                from local_backends.sagemaker import SageMakerBackend
                backend = get_backend(SageMakerBackend, self.home, region)
                client = self._clients[region] = backend.peers.client("s3")
            return client

    def presigner(self, region: str):
        def presign(uri: str) -> str:
            bucket, key = split_s3_uri(uri)
            return self.s3(region).generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600)
        return presign

    def worker(self, worker_id: str):
        return self.store.query_one("SELECT * FROM workers WHERE worker_id=?", (worker_id,))

    def job(self, region: str, name: str, account: str):
        return self.store.query_one("SELECT * FROM jobs WHERE account=? AND region=? AND name=?",
                                    (account, region, name))

    def jobs_for(self, worker) -> list[dict]:
        rows = self.store.query(
            "SELECT j.* FROM jobs j JOIN workteams t ON j.workteam_arn=t.arn WHERE t.name=? AND t.account=? "
            "AND t.region=? AND j.status IN ('Initializing','InProgress') ORDER BY j.created",
            (worker["workteam"], worker["account"], worker["region"]))
        out = []
        for j in rows:
            open_items = self.store.query_one(
                "SELECT COUNT(*) FROM items i WHERE i.job_arn=? AND i.state=? AND NOT EXISTS (SELECT 1 FROM answers a "
                "WHERE a.job_arn=i.job_arn AND a.idx=i.idx AND a.worker_id=? AND a.status='submitted')",
                (j["arn"], PENDING, worker["worker_id"]))[0]
            out.append({"row": j, "open": open_items})
        return out


def make_app(home: Path) -> Starlette:
    """The portal's ASGI app for the state root ``home``."""
    portal = Portal(home)

    async def index(request: Request):
        rows = portal.store.query("SELECT * FROM workers WHERE kind='human' ORDER BY created")
        items = "".join(f'<li><a href="/workers/{quote(r["worker_id"])}">{html.escape(r["name"])}</a> '
                        f'({html.escape(r["email"] or "")}, team {html.escape(r["workteam"])})</li>' for r in rows)
        return _page("Labeling portal", f"<h1>Sign in as</h1><ul>{items or '<li>No workers registered.</li>'}</ul>")

    async def worker_home(request: Request):
        w = portal.worker(request.path_params["worker"])
        if w is None:
            return _page("Unknown worker", "<p>No such worker.</p>")
        rows = []
        for entry in portal.jobs_for(w):
            j = entry["row"]
            cfg = json.loads(j["config"])
            link = f"/workers/{quote(w['worker_id'])}/jobs/{j['region']}/{quote(j['name'])}"
            rows.append(f'<tr><td>{html.escape(cfg.get("title", j["name"]))}</td><td>{html.escape(j["name"])}</td>'
                        f'<td>{entry["open"]}</td><td><a class="start" data-job="{html.escape(j["name"])}" '
                        f'href="{link}">Start working</a></td></tr>')
        table = ("<table><tr><th>Task</th><th>Job</th><th>Open tasks</th><th></th></tr>" + "".join(rows) + "</table>"
                 if rows else "<p>No jobs have tasks for you.</p>")
        return _page(f"Jobs for {w['name']}", f"<h1>Jobs for {html.escape(w['name'])}</h1>{table}")

    def _locate(request: Request):
        w = portal.worker(request.path_params["worker"])
        if w is None:
            return None, None
        return w, portal.job(request.path_params["region"], request.path_params["job"], w["account"])

    async def task_page(request: Request):
        w, job = _locate(request)
        if w is None or job is None:
            return _page("Not found", "<p>No such worker or job.</p>")
        if job["workteam_arn"] not in {r["arn"] for r in portal.store.query(
                "SELECT arn FROM workteams WHERE name=? AND account=? AND region=?",
                (w["workteam"], w["account"], w["region"]))}:
            return _page("Not your team", "<p>This job belongs to another work team.</p>")
        portal.engine.advance(job["arn"])
        task = portal.engine.next_task(w["worker_id"], job["arn"])
        back = f"/workers/{quote(w['worker_id'])}"
        if task is None:
            return _page("No more tasks", f'<h1 data-state="done">No more tasks in {html.escape(job["name"])}</h1>'
                                          f'<p><a href="{back}">Back to your jobs</a></p>')
        cfg = json.loads(job["config"])
        try:
            body = templates.render(cfg["template"], task["input"], portal.presigner(job["region"]))
        except templates.TemplateError as exc:
            return _page("Template error", f"<pre>{html.escape(str(exc))}</pre>")
        body = _SCRIPT.sub(r'<script\1src="/static/crowd-html-elements.js" defer\2>', body)
        submit = f"/workers/{quote(w['worker_id'])}/jobs/{job['region']}/{quote(job['name'])}/tasks/{task['index']}"
        config = json.dumps({"submitUrl": submit, "deadline": task["deadline"], "task": task["index"]})
        remaining = max(0, int(task["deadline"] - time.time()))
        head = f"<script>window.__CROWD_PORTAL__ = {config};</script>"
        return _page(cfg.get("title", job["name"]),
                     f'<h1>{html.escape(cfg.get("title", ""))}</h1><p>{html.escape(cfg.get("description", ""))}</p>'
                     f'<p class="task-meta">Task {task["index"]} · {remaining} s left · '
                     f'<a href="{back}">Back to your jobs</a></p><main id="task" data-task="{task["index"]}">{body}</main>',
                     head)

    async def submit(request: Request):
        w, job = _locate(request)
        if w is None or job is None:
            return JSONResponse({"message": "No such worker or job."}, status_code=404)
        try:
            answer = await request.json()
        except ValueError:
            return JSONResponse({"message": "The answer must be JSON."}, status_code=400)
        try:
            portal.engine.submit(job["arn"], int(request.path_params["index"]), w["worker_id"], answer, sub=w["sub"])
        except AnswerError as exc:
            return JSONResponse({"message": str(exc)}, status_code=400)
        except TaskUnavailable as exc:
            return JSONResponse({"message": str(exc)}, status_code=409)
        nxt = f"/workers/{quote(w['worker_id'])}/jobs/{job['region']}/{quote(job['name'])}"
        return JSONResponse({"submitted": True, "next": nxt})

    async def health(request: Request):
        return Response("ok")

    routes = [
        Route("/", index), Route("/health", health),
        Route("/workers/{worker}", worker_home),
        Route("/workers/{worker}/jobs/{region}/{job}", task_page),
        Route("/workers/{worker}/jobs/{region}/{job}/tasks/{index:int}", submit, methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
    ]
    return Starlette(routes=routes)


class PortalServer:
    """A running portal (uvicorn in a daemon thread); ``stop()`` ends it."""

    def __init__(self, home: Path, port: int = 0, host: str = "127.0.0.1") -> None:
        import uvicorn
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.url = f"http://{host}:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(make_app(home), log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       name="labeling-portal", daemon=True)

    def start(self, timeout: float = 10.0) -> "PortalServer":
        self.thread.start()
        deadline = time.time() + timeout
        while not self.server.started:
            if time.time() > deadline or not self.thread.is_alive():
                raise RuntimeError("the labeling portal did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


_servers: dict[str, PortalServer] = {}


def serve_portal(home, port: int = 0) -> str:
    """Start the worker portal for the state root ``home`` on 127.0.0.1 (in this process, once
    per root) and return its URL."""
    key = str(Path(home).resolve())
    server = _servers.get(key)
    if server is None or not server.thread.is_alive():
        server = _servers[key] = PortalServer(Path(home), port).start()
    return server.url


def stop_portal(home) -> None:
    server = _servers.pop(str(Path(home).resolve()), None)
    if server is not None:
        server.stop()
