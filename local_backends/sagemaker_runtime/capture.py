"""SageMaker data capture: requests and responses as JSON lines in S3.

The format is SageMaker's (what Model Monitor reads)::

    {"captureData": {"endpointInput":  {"observedContentType": "text/csv", "mode": "INPUT",
                                        "data": "1,2,3", "encoding": "CSV"},
                     "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                                        "data": "0.87", "encoding": "CSV"}},
     "eventMetadata": {"eventId": "<uuid>", "inferenceTime": "2026-11-25T21:03:04Z"},
     "eventVersion": "0"}

one object per line, in ``<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/
<mm-ss-mmm>-<uuid>.jsonl`` (the hour of the first record of the file). ``encoding`` is
``CSV`` or ``JSON`` for the content types named in ``CaptureContentTypeHeader`` (default
``text/csv`` and ``application/json``), else ``BASE64``. Only successful invocations are
captured, each with probability ``InitialSamplingPercentage`` / 100.

**When files are written**: records are buffered per endpoint, variant and hour, and a
buffer is written as one object when it holds 100 records, when its oldest record is 10
seconds old (checked at every invocation of the process), when :meth:`flush` is called
(``aws_ml.serving.flush(session)``), and at interpreter exit.
"""
from __future__ import annotations

import base64
import json
import random
import threading
import time
import uuid
from datetime import datetime, timezone

MAX_RECORDS = 100
MAX_AGE_SECONDS = 10.0


def _encoding(content_type: str | None, config: dict) -> str:
    header = config.get("CaptureContentTypeHeader") or {}
    ctype = (content_type or "").split(";")[0].strip().lower()
    csv_types = [t.lower() for t in header.get("CsvContentTypes") or ["text/csv"]]
    json_types = [t.lower() for t in header.get("JsonContentTypes") or ["application/json"]]
    if ctype in csv_types:
        return "CSV"
    if ctype in json_types:
        return "JSON"
    return "BASE64"


def _payload(body: bytes, content_type: str | None, mode: str, config: dict) -> dict:
    encoding = _encoding(content_type, config)
    if encoding == "BASE64":
        data = base64.b64encode(body).decode()
    else:
        data = body.decode("utf-8", errors="replace")
    return {"observedContentType": content_type or "", "mode": mode, "data": data,
            "encoding": encoding}


class DataCapture:
    """Buffers capture records and writes them to S3 through a boto3 S3 client."""

    def __init__(self, s3_client_factory) -> None:
        self._s3 = s3_client_factory
        self._lock = threading.Lock()
        self._buffers: dict[tuple[str, str, str], dict] = {}

    def sampled(self, config: dict | None) -> bool:
        """Whether to capture this invocation (``EnableCapture`` and the sampling rate)."""
        if not config or not config.get("EnableCapture", True):
            return False
        pct = config.get("InitialSamplingPercentage", 0)
        return pct >= 100 or random.random() * 100 < pct

    def record(self, config: dict, endpoint: str, variant: str, request: bytes,
               request_type: str | None, response: bytes, response_type: str | None,
               inference_id: str | None = None) -> None:
        modes = {o["CaptureMode"] for o in config.get("CaptureOptions") or []} or {"Input", "Output"}
        now = datetime.now(timezone.utc)
        data = {}
        if "Input" in modes:
            data["endpointInput"] = _payload(request, request_type, "INPUT", config)
        if "Output" in modes:
            data["endpointOutput"] = _payload(response, response_type, "OUTPUT", config)
        meta = {"eventId": str(uuid.uuid4()), "inferenceTime": now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"}
        if inference_id:
            meta["inferenceId"] = inference_id
        line = json.dumps({"captureData": data, "eventMetadata": meta, "eventVersion": "0"})
        prefix = config["DestinationS3Uri"].rstrip("/")
        key = (prefix, f"{endpoint}/{variant}", now.strftime("%Y/%m/%d/%H"))
        due = []
        with self._lock:
            buf = self._buffers.get(key)
            if buf is None:
                buf = self._buffers[key] = {"lines": [], "first": time.monotonic(), "start": now}
            buf["lines"].append(line)
            if len(buf["lines"]) >= MAX_RECORDS:
                due.append((key, self._buffers.pop(key)))
            due += self._take_old()
        for key, buf in due:
            self._write(key, buf)

    def _take_old(self) -> list:
        limit = time.monotonic() - MAX_AGE_SECONDS
        old = [k for k, b in self._buffers.items() if b["first"] <= limit]
        return [(k, self._buffers.pop(k)) for k in old]

    def tick(self) -> None:
        """Write the buffers whose oldest record is older than the age limit."""
        if not self._buffers:
            return
        with self._lock:
            due = self._take_old()
        for key, buf in due:
            self._write(key, buf)

    def flush(self) -> None:
        """Write every buffered record now."""
        with self._lock:
            due = list(self._buffers.items())
            self._buffers.clear()
        for key, buf in due:
            self._write(key, buf)

    def _write(self, key: tuple[str, str, str], buf: dict) -> None:
        prefix, path, hour = key
        bucket, _, base = prefix[len("s3://"):].partition("/")
        start = buf["start"]
        name = f"{start.strftime('%M-%S')}-{start.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
        object_key = "/".join(p for p in (base, path, hour, name) if p)
        body = ("\n".join(buf["lines"]) + "\n").encode()
        self._s3().put_object(Bucket=bucket, Key=object_key, Body=body,
                              ContentType="application/jsonlines")
