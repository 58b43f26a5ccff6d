"""The runner's state: one record per completed step, keyed by the hash of its inputs and
configuration, and one record per run.

A step's record is written once, atomically, when the step completes (a local file
renamed into place, or one S3 ``PutObject``): a run killed mid-step leaves no record
for that step, so the next run redoes exactly that step and what follows it.

State lives under the session's home on the ``local`` backend
(``<home>/pipelines/<name>/``) and under the pipeline's artefact prefix in S3 on the
other backends (``s3://<bucket>/<prefix>/_state/``), so that a pipeline run on AWS
from two machines shares its cache.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

STATE_VERSION = 1


def digest(value: Any) -> str:
    """The SHA-256 of ``value``'s canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_digest(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class StateStore:
    """Where step and run records are kept (a directory or an S3 prefix)."""

    location: str

    # -- primitive operations, per store -----------------------------------------------
    def read(self, key: str) -> bytes | None:
        raise NotImplementedError

    def write(self, key: str, body: bytes) -> None:
        """Write atomically: readers see the old value or the new one, never a part."""
        raise NotImplementedError

    def list(self, prefix: str) -> list[str]:
        raise NotImplementedError

    def url(self, key: str) -> str:
        raise NotImplementedError

    # -- records -------------------------------------------------------------------------
    def read_json(self, key: str) -> dict | None:
        body = self.read(key)
        return None if body is None else json.loads(body)

    def write_json(self, key: str, value: dict) -> None:
        self.write(key, json.dumps(value, indent=1, sort_keys=True, default=str).encode("utf-8"))

    def step_record(self, step: str, key: str) -> dict | None:
        """The record of ``step`` completed with cache key ``key``, if any."""
        record = self.read_json(f"steps/{step}/{key}.json")
        if record is not None and record.get("state_version") != STATE_VERSION:
            return None
        return record

    def save_step(self, step: str, key: str, record: dict) -> None:
        self.write_json(f"steps/{step}/{key}.json", {**record, "state_version": STATE_VERSION})

    def save_run(self, run: dict) -> None:
        self.write_json(f"runs/{run['run_id']}/run.json", run)

    def run_ids(self) -> list[str]:
        """Every run recorded, oldest first (run ids sort by time)."""
        return sorted({k.split("/")[1] for k in self.list("runs/") if k.endswith("/run.json")})

    def load_run(self, run_id: str) -> dict | None:
        return self.read_json(f"runs/{run_id}/run.json")

    def runs(self) -> Iterator[dict]:
        for run_id in self.run_ids():
            run = self.load_run(run_id)
            if run is not None:
                yield run


class LocalStateStore(StateStore):
    """State in a directory (the ``local`` backend: ``<home>/pipelines/<name>``)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.location = str(self.root)

    def _path(self, key: str) -> Path:
        return self.root / key

    def read(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def write(self, key: str, body: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        if not base.exists():
            return []
        return sorted(str(p.relative_to(self.root)) for p in base.rglob("*")
                      if p.is_file() and not p.name.startswith("."))

    def url(self, key: str) -> str:
        return str(self._path(key))

    def lock(self):
        """An exclusive lock on the pipeline's state for one run (released by the OS when
        the process dies, so a killed run never blocks the next)."""
        return _FileLock(self.root / ".lock")


class S3StateStore(StateStore):
    """State under an S3 prefix (``s3://<bucket>/<prefix>/_state/``): other backends."""

    def __init__(self, s3, bucket: str, prefix: str) -> None:
        self.s3, self.bucket, self.prefix = s3, bucket, prefix.strip("/") + "/_state/"
        self.location = f"s3://{bucket}/{self.prefix}"

    def read(self, key: str) -> bytes | None:
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None

    def write(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=body,
                           ContentType="application/json" if key.endswith(".json") else "text/html")

    def list(self, prefix: str) -> list[str]:
        keys = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            keys.extend(o["Key"][len(self.prefix):] for o in page.get("Contents", []))
        return sorted(keys)

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}"

    def lock(self):
        return _NoLock()


class _FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh = None

    def __enter__(self) -> "_FileLock":
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.path, "a+")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.seek(0)
            owner = self.fh.read().strip() or "another process"
            self.fh.close()
            raise RuntimeError(f"another run of this pipeline is in progress ({owner}); "
                               f"wait for it to finish") from None
        self.fh.seek(0)
        self.fh.truncate()
        self.fh.write(f"pid {os.getpid()}")
        self.fh.flush()
        return self

    def __exit__(self, *exc: object) -> None:
        import fcntl

        if self.fh is not None:
            fcntl.flock(self.fh, fcntl.LOCK_UN)
            self.fh.close()


class _NoLock:
    def __enter__(self) -> "_NoLock":
        return self

    def __exit__(self, *exc: object) -> None:
        return None
