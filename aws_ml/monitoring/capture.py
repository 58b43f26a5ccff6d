"""Read SageMaker data capture from S3: the requests (and responses) an endpoint saw.

SageMaker writes one JSON object per line, in
``<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/<name>.jsonl``::

    {"captureData": {"endpointInput":  {"observedContentType": "text/csv", "mode": "INPUT",
                                        "data": "1,2,3", "encoding": "CSV"},
                     "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                                        "data": "0.87", "encoding": "CSV"}},
     "eventMetadata": {"eventId": "...", "inferenceTime": "2026-11-25T21:03:04Z"},
     "eventVersion": "0"}

``encoding`` is ``CSV``, ``JSON`` or ``BASE64`` (the payload base64-encoded; it is then
decoded by its ``observedContentType``: CSV, JSON or JSON Lines; a request of another type
(``application/x-npy``, images) is refused by name, a response of another type is kept
as its base64 text). CSV requests have no header: their columns are
named by the baseline's feature names, in order. JSON requests may be an object (one row),
a list of objects or of lists, or ``{"instances": [...]}`` (SageMaker's JSON convention).
"""
from __future__ import annotations

import base64
import csv
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Sequence

import pandas as pd

from .baseline import parse_s3_uri


class CaptureError(ValueError):
    """A capture record or payload that cannot be read (names the object and line)."""


@dataclass
class CapturedData:
    """The captured traffic: one row per request row (the CSV requests' rows, in time order,
    then the JSON requests'), the responses' values, the raw records and the S3 keys read."""

    inputs: pd.DataFrame
    outputs: list[Any]
    records: list[dict] = field(repr=False, default_factory=list)
    keys: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.inputs)


def capture_prefix(uri: str, endpoint: str | None = None, variant: str | None = None) -> str:
    """``DestinationS3Uri`` (+ ``/endpoint`` + ``/variant``) as an ``s3://`` prefix."""
    parts = [uri.rstrip("/")] + [p for p in (endpoint, variant) if p]
    return "/".join(parts)


def list_capture_files(session, uri: str, *, start: datetime | None = None,
                       end: datetime | None = None) -> list[str]:
    """The ``.jsonl`` keys under an ``s3://`` prefix (in time order: their keys start with
    ``yyyy/mm/dd/hh/mm-ss``), optionally those of the hours between ``start`` and ``end``."""
    bucket, prefix = parse_s3_uri(uri)
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    keys = []
    for page in session.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(".jsonl")]
    if start or end:
        keys = [k for k in keys if _in_hours(k, start, end)]
    return sorted(keys)


def _in_hours(key: str, start: datetime | None, end: datetime | None) -> bool:
    parts = key.split("/")
    try:
        hour = datetime(*(int(p) for p in parts[-5:-1]), tzinfo=start.tzinfo if start else end.tzinfo)
    except (TypeError, ValueError):
        return True
    stamp = hour.replace(minute=0, second=0, microsecond=0)
    return (start is None or stamp >= start.replace(minute=0, second=0, microsecond=0)) and \
        (end is None or stamp <= end)


def decode_payload(payload: dict) -> tuple[str, str]:
    """``(content type, text)`` of an ``endpointInput``/``endpointOutput`` payload."""
    encoding = (payload.get("encoding") or "").upper()
    data = payload.get("data", "")
    ctype = (payload.get("observedContentType") or "").split(";")[0].strip().lower()
    if encoding == "BASE64":
        if not any(t in ctype for t in ("csv", "json")):
            raise CaptureError(f"a {ctype or 'untyped'} payload is neither CSV nor JSON (aws_ml reads "
                               f"CSV and JSON captures)")
        text = base64.b64decode(data).decode("utf-8")
    elif encoding in ("CSV", "JSON"):
        text = data
    else:
        raise CaptureError(f"unknown capture encoding {payload.get('encoding')!r} (CSV, JSON or BASE64)")
    if encoding == "CSV" or (encoding == "BASE64" and "csv" in ctype):
        return "text/csv", text
    if "jsonlines" in ctype or "x-ndjson" in ctype:
        return "application/jsonlines", text
    return "application/json", text          # JSON, or BASE64 of a JSON type


def _is_binary(payload: dict) -> bool:
    ctype = (payload.get("observedContentType") or "").lower()
    return (payload.get("encoding") or "").upper() == "BASE64" and not any(t in ctype for t in ("csv", "json"))


def _csv_rows(text: str) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(text)) if row]


def _json_rows(text: str, names: Sequence[str] | None, lines: bool = False) -> list[dict[str, Any]]:
    """Rows of a JSON (or JSON Lines) request body."""
    if lines:
        return [row for line in text.splitlines() if line.strip() for row in _json_rows(line, names)]
    doc = json.loads(text)
    if isinstance(doc, dict):
        for key in ("instances", "inputs", "data"):
            if isinstance(doc.get(key), list):
                doc = doc[key]
                break
        else:
            doc = [doc]
    if not isinstance(doc, list):
        doc = [doc]
    if doc and not isinstance(doc[0], (list, dict)):
        doc = [doc]                          # one flat row
    rows = []
    for item in doc:
        if isinstance(item, dict) and isinstance(item.get("features"), list):
            item = item["features"]          # {"features": [...]}: SageMaker's built-in algorithms
        rows.append(dict(item) if isinstance(item, dict) else _named(item, names))
    return rows


def _named(values: list, names: Sequence[str] | None) -> dict[str, Any]:
    names = list(names or [])
    out = {n: v for n, v in zip(names, values)}
    for i in range(len(names), len(values)):
        out[f"_c{i}"] = values[i]            # a column beyond the baseline's: an extra column
    return out


def _output_values(ctype: str, text: str) -> list[Any]:
    if ctype == "text/csv":
        rows = [[_number(v) for v in row] for row in _csv_rows(text)]
        return [r[0] for r in rows] if all(len(r) == 1 for r in rows) else rows
    if ctype == "application/jsonlines":
        return [v for line in text.splitlines() if line.strip() for v in _output_values("application/json", line)]
    doc = json.loads(text)
    if isinstance(doc, dict):
        doc = doc.get("predictions", doc.get("scores", doc))
    return doc if isinstance(doc, list) else [doc]


def _number(v: str) -> Any:
    try:
        return float(v)
    except ValueError:
        return v


def read_capture(session, uri: str, *, feature_names: Sequence[str] | None = None,
                 start: datetime | None = None, end: datetime | None = None) -> CapturedData:
    """The captured requests under ``uri`` as a DataFrame (and the responses as a list).

    :param uri: a capture prefix: ``DestinationS3Uri``, or deeper
        (``.../<endpoint>/<variant>`` or down to an hour).
    :param feature_names: the names of the columns of CSV requests, in order (a
        :class:`~aws_ml.monitoring.baseline.Baseline`'s ``feature_names``); columns beyond
        them are named ``_c<i>``. Without names, CSV columns are ``_c0``, ``_c1``, ...
    """
    bucket, _ = parse_s3_uri(uri)
    s3 = session.client("s3")
    keys = list_capture_files(session, uri, start=start, end=end)
    csv_rows: list[list[str]] = []
    json_rows: list[dict[str, Any]] = []
    outputs: list[Any] = []
    records: list[dict] = []
    for key in keys:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        for lineno, line in enumerate(body.splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                data = record["captureData"]
                if "endpointInput" in data:
                    ctype, text = decode_payload(data["endpointInput"])
                    if ctype == "text/csv":
                        csv_rows += _csv_rows(text)
                    elif ctype in ("application/json", "application/jsonlines"):
                        json_rows += _json_rows(text, feature_names, lines=ctype.endswith("lines"))
                if "endpointOutput" in data:
                    out = data["endpointOutput"]
                    if _is_binary(out):      # kept as captured (base64): not tabular
                        outputs.append(out.get("data"))
                    else:
                        outputs += _output_values(*decode_payload(out))
            except (KeyError, ValueError, TypeError) as exc:
                raise CaptureError(f"s3://{bucket}/{key} line {lineno}: not a capture record "
                                   f"({type(exc).__name__}: {exc})") from exc
            records.append(record)
    frames = []
    if csv_rows:
        frames.append(_csv_frame(csv_rows, feature_names))
    if json_rows:
        frames.append(pd.DataFrame(json_rows))
    inputs = pd.concat(frames, ignore_index=True) if frames else \
        pd.DataFrame(columns=list(feature_names or []))
    return CapturedData(inputs=inputs, outputs=outputs, records=records, keys=keys)


def _csv_frame(rows: list[list[str]], names: Sequence[str] | None) -> pd.DataFrame:
    """CSV rows (strings) as a typed DataFrame: re-read by pandas so numbers are numbers."""
    width = max(len(r) for r in rows)
    names = list(names or [])
    columns = names[:width] + [f"_c{i}" for i in range(len(names), width)]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    buf.seek(0)
    return pd.read_csv(buf, header=None, names=columns, skipinitialspace=True,
                       keep_default_na=True, na_values=[""])
