"""The detached process of one local training job (``python -m`` this module).

Started by ``CreateTrainingJob`` in its own session (it outlives the caller), it
reconstructs a local :class:`aws_ml.Session` for the job's state root and region, runs
:func:`~.training_runner.run_training` with that session's S3, Logs and CloudWatch
clients, and records every status change in the job's SQLite record. SIGTERM (or
``StopTrainingJob``) stops the job as AWS does. Anything unexpected ends the job
``Failed`` with the reason, and the trace goes to ``supervisor.log`` in the job directory.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

from .training_runner import JobHooks, TrainingResult, run_training
from .training_store import TrainingStore, end_transitions, process_token


class _SessionClients:
    """The job's clients, built in a background thread while the channels download.

    A local ``Session`` and its botocore clients take a few tenths of a second to build;
    the download needs only the local S3 backend, which is ready at once.
    """

    def __init__(self, home: Path, region: str, account: str) -> None:
        from local_backends import backend_class

        from aws_ml.session import job_routes

        local_s3 = None
        if job_routes().backend_for("s3") == "local":      # not LocalStack's or a moto server's
            try:
                local_s3 = backend_class("s3")(home, region, account)
            except ImportError:
                traceback.print_exc()  # no local S3 backend: everything goes through the client
        self.__dict__["local_s3"] = local_s3 if hasattr(local_s3, "object_path") else None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        threading.Thread(target=self._build, args=(home, region), daemon=True).start()

    def _build(self, home: Path, region: str) -> None:
        try:
            from aws_ml import Session

            session = Session.for_job_process(home, region)    # the creator's routes (AWS_ML_JOB_SESSION)
            for name in ("s3", "logs", "cloudwatch"):
                self.__dict__[name] = session.client(name)
        except BaseException as exc:
            self._error = exc
        finally:
            self._ready.set()

    def __getattr__(self, name: str):
        if name not in ("s3", "logs", "cloudwatch"):
            raise AttributeError(name)
        self._ready.wait()
        if self._error is not None:
            raise RuntimeError(f"cannot build the job's {name} client: {self._error}") from self._error
        return self.__dict__[name]

    def __setattr__(self, name: str, value) -> None:
        self.__dict__[name] = value


def supervise(home: Path, region: str, account: str, name: str) -> int:
    store = TrainingStore(home)
    pid = os.getpid()
    store.set_process(account, region, name, pid, process_token(pid))
    record = store.get(account, region, name)
    if record is None:
        print(f"no training job {name!r} in {home} ({account}, {region})", file=sys.stderr)
        return 2
    stop = {"signal": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__("signal", True))
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def on_transition(update: dict) -> None:
        fields = {"status": update["status"], "secondary": update["secondary"],
                  "transitions": update["transitions"]}
        for key in ("training_start", "training_end", "final_metrics", "model_artifacts",
                    "failure_reason"):
            if update.get(key) is not None:
                fields[key] = update[key]
        store.update(account, region, name, **fields)

    last_check = [0.0, False]

    def should_stop() -> bool:
        if stop["signal"]:
            return True
        now = time.monotonic()
        if now - last_check[0] >= 0.2:
            last_check[0] = now
            last_check[1] = store.stop_requested(account, region, name)
        return last_check[1]

    def on_warning(message: str) -> None:
        print(f"warning: {message}", file=sys.stderr, flush=True)

    request = dict(record["request"])
    request.update(TrainingJobArn=record["arn"], Region=region)
    try:
        clients = _SessionClients(home, region, account)
        result = run_training(request, store.job_dir(region, name), clients,
                              JobHooks(on_transition, should_stop, on_warning),
                              transitions=record["transitions"])
    except BaseException as exc:  # the runner itself broke: the job must not stay InProgress
        traceback.print_exc()
        now = time.time()
        transitions = end_transitions(list(record["transitions"]), now)
        transitions.append({"Status": "Failed", "StartTime": now, "EndTime": now,
                            "StatusMessage": "Training job failed"})
        store.update(account, region, name, status="Failed", secondary="Failed",
                     transitions=transitions, training_end=now,
                     failure_reason=f"InternalServerError: {type(exc).__name__}: {exc}"[:1024])
        return 1
    return 0 if isinstance(result, TrainingResult) else 1


def main(argv: list[str] | None = None) -> int:
    home, region, account, name = (argv if argv is not None else sys.argv[1:])
    return supervise(Path(home), region, account, name)


if __name__ == "__main__":
    sys.exit(main())
