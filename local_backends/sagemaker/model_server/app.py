"""The model server: ``GET /ping`` and ``POST /invocations``, the SageMaker container contract.

Run as ``python -m local_backends.sagemaker.model_server --model-dir DIR --status-file F``.
It loads the model first (a failure is written to the status file and the process exits
1), then binds ``127.0.0.1:<port>`` itself with ``SO_REUSEPORT`` (so the replacement server
of an ``update_endpoint``, or a second instance of a variant, shares the port: the URL of a
variant never changes and no request finds the port closed), writes
``{"state": "ready", "port": ..., "pid": ...}`` to the status file and serves with uvicorn
until SIGTERM (graceful: requests in flight are answered).

Every response to ``/invocations`` carries ``X-Aws-Ml-Model-Latency-Us``, the time spent in
the handler chain, which the runtime backend reports as CloudWatch's ``ModelLatency``, and
the headers user code set through the request context (``X-Amzn-SageMaker-Custom-Attributes``
is what ``InvokeEndpoint`` answers as ``CustomAttributes``).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import sys
import time
import traceback
from pathlib import Path

from .context import RequestContext
from .handlers import LoadedModel, ModelLoadError, ScoringError, invocations, load_model

LATENCY_HEADER = "x-aws-ml-model-latency-us"
CUSTOM_ATTRIBUTES = "x-amzn-sagemaker-custom-attributes"
"""The header of ``InvokeEndpoint``'s ``CustomAttributes``, both ways."""


def write_status(path: Path, **status) -> None:
    """Atomically replace the status file (readers never see half of it)."""
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(status))
    os.replace(tmp, path)


def make_app(model: LoadedModel, on_startup=None):
    """The Starlette application serving ``model``."""
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    async def ping(request):
        return Response(b"", status_code=200)

    async def invoke(request):
        body = await request.body()
        headers = request.headers
        context = RequestContext(headers) if model.arity else None   # user code may read it
        start = time.perf_counter_ns()
        try:
            out, ctype = invocations(body, headers.get("content-type"), headers.get("accept"), model,
                                     context)
            status = 200
        except ScoringError as err:
            out, ctype, status = err.message.encode(), "text/plain", err.status
            if status >= 500:
                print(f"ERROR /invocations {status}: {err.message}", file=sys.stderr)
                if err.__cause__ is not None:
                    traceback.print_exception(err.__cause__, file=sys.stderr)
                sys.stderr.flush()
        latency_us = (time.perf_counter_ns() - start) // 1000
        extra = {LATENCY_HEADER: str(latency_us)}
        if context is not None:
            for key, value in context.response_headers.items():
                if key != "content-type":
                    extra[key] = value
                elif status == 200:
                    ctype = value
        return Response(out, status_code=status, media_type=ctype, headers=extra)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        if on_startup is not None:
            on_startup()
        yield

    return Starlette(routes=[Route("/ping", ping, methods=["GET"]),
                             Route("/invocations", invoke, methods=["POST"])],
                     lifespan=lifespan)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket that a successor can share (``SO_REUSEPORT``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_backends.sagemaker.model_server",
                                     description="Serve a SageMaker model on /ping and /invocations")
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--code-dir", default=None)
    parser.add_argument("--program", default=None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--status-file", required=True)
    args = parser.parse_args(argv)
    status_file = Path(args.status_file)

    program = args.program or os.environ.get("SAGEMAKER_PROGRAM") or None
    print(f"model server starting (pid {os.getpid()}): model {args.model_dir}", flush=True)
    try:
        model = load_model(args.model_dir, args.code_dir, program)
        sock = bind(args.host, args.port)
    except (ModelLoadError, OSError) as exc:
        reason = str(exc)
        print(f"ERROR {reason}", file=sys.stderr, flush=True)
        write_status(status_file, state="failed", reason=reason.splitlines()[0][:1000],
                     pid=os.getpid())
        return 1
    port = sock.getsockname()[1]

    import uvicorn

    def started() -> None:
        write_status(status_file, state="ready", port=port, pid=os.getpid())
        print(f"model server ready: {model.kind} model on http://{args.host}:{port}", flush=True)

    config = uvicorn.Config(make_app(model, started), log_level="warning", access_log=False,
                            timeout_keep_alive=75, timeout_graceful_shutdown=30,
                            lifespan="on")
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    print("model server stopped", flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover - run through __main__.py
    sys.exit(main())
