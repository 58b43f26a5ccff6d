"""Ground Truth's files, laid out exactly as AWS lays them out in S3.

* the **input manifest**: JSON lines, each with ``source`` (the text) or ``source-ref`` (an
  S3 URI of the object), plus any other keys, which pass through unchanged;
* the **label category configuration**: ``{"document-version": "2018-11-28",
  "labels": [{"label": ...}, ...]}``;
* under ``<S3OutputPath>/<job-name>/``: ``manifests/output/output.manifest`` (the augmented
  manifest: each input line, in order, with ``<LabelAttributeName>`` and
  ``<LabelAttributeName>-metadata`` added), ``annotations/worker-response/iteration-1/<n>/
  <timestamp>.json`` (one file per data object, with every worker's answer, written when the
  object has all its answers) and ``annotations/consolidated-annotation/
  consolidation-response/iteration-1/<timestamp>.json`` (the consolidated labels).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

LABEL_CATEGORY_VERSION = "2018-11-28"


class ManifestError(ValueError):
    """A manifest or label-category file AWS would refuse (the message says why)."""


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key)."""
    if uri.startswith("s3://"):
        rest = uri[5:]
    elif uri.startswith("https://"):
        # virtual-hosted https://bucket.s3.amazonaws.com/key or path style https://s3.../bucket/key
        host, _, path = uri[8:].partition("/")
        if ".s3" in host and not host.startswith("s3"):
            return host.split(".s3")[0], path
        rest = path
    else:
        raise ManifestError(f"{uri} is not an S3 URI")
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise ManifestError(f"{uri} is not an S3 URI")
    return bucket, key


def join_s3(prefix: str, *parts: str) -> str:
    return "/".join([prefix.rstrip("/"), *(p.strip("/") for p in parts)])


def parse_input_manifest(data: bytes, uri: str) -> list[dict]:
    """The data objects of an input manifest (one JSON object per non-blank line)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ManifestError(f"The manifest file {uri} is not UTF-8 encoded.") from None
    objects: list[dict] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ManifestError(f"Invalid JSON on line {n} of the manifest file {uri}: {exc.msg}.") from None
        if not isinstance(obj, dict):
            raise ManifestError(f"Line {n} of the manifest file {uri} is not a JSON object.")
        if ("source" in obj) == ("source-ref" in obj):
            raise ManifestError(f"Line {n} of the manifest file {uri} must have exactly one of the "
                                f"keys 'source' or 'source-ref'.")
        objects.append(obj)
    if not objects:
        raise ManifestError(f"The manifest file {uri} has no data objects.")
    return objects


def parse_label_categories(data: bytes, uri: str, min_labels: int) -> dict:
    """The label-category configuration, checked: at least ``min_labels`` distinct labels."""
    try:
        config = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ManifestError(f"The label category configuration file {uri} is not valid JSON.") from None
    labels = config.get("labels") if isinstance(config, dict) else None
    if not isinstance(labels, list) or not all(isinstance(x, dict) and isinstance(x.get("label"), str)
                                               for x in labels):
        raise ManifestError(f"The label category configuration file {uri} must have a 'labels' list "
                            f"of objects with a 'label' string.")
    names = [x["label"] for x in labels]
    if len(set(names)) != len(names):
        raise ManifestError(f"The label category configuration file {uri} has duplicate labels.")
    if len(names) < min_labels:
        raise ManifestError(f"The label category configuration file {uri} must have at least "
                            f"{min_labels} labels for this task type; it has {len(names)}.")
    if len(names) > 50:
        raise ManifestError(f"The label category configuration file {uri} has {len(names)} labels; "
                            f"the maximum is 50.")
    return config


# -- timestamps as Ground Truth writes them -------------------------------------------------
def creation_date(ts: float) -> str:
    """``2018-10-18T22:18:13.527256`` (UTC, microseconds, no zone), as in the output metadata."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


def worker_time(ts: float) -> str:
    """``2020-12-28T18:59:58.321Z``, as in the worker-response files."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{int(ts * 1000) % 1000:03d}Z"


def file_timestamp(ts: float) -> str:
    """The name of a worker-response / consolidation file: ``2021-03-08_23:06:49.json``."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d_%H:%M:%S") + ".json"


# -- output paths ----------------------------------------------------------------------------
def job_prefix(output_path: str, job_name: str) -> str:
    return join_s3(output_path, job_name)


def output_manifest_uri(output_path: str, job_name: str) -> str:
    return join_s3(output_path, job_name, "manifests/output/output.manifest")


def worker_response_uri(output_path: str, job_name: str, index: int, ts: float, iteration: int = 1) -> str:
    return join_s3(output_path, job_name, f"annotations/worker-response/iteration-{iteration}/{index}",
                   file_timestamp(ts))


def consolidation_uri(output_path: str, job_name: str, ts: float, iteration: int = 1) -> str:
    return join_s3(output_path, job_name,
                   f"annotations/consolidated-annotation/consolidation-response/iteration-{iteration}",
                   file_timestamp(ts))


def quality_report_uri(output_path: str, job_name: str) -> str:
    return join_s3(output_path, job_name, "annotations/label-quality/label-quality-report.json")


# -- file bodies -----------------------------------------------------------------------------
def worker_response(answers: list[dict]) -> dict:
    """The body of a worker-response file: ``{"answers": [...]}`` with AWS's worker metadata."""
    return {"answers": [{
        "acceptanceTime": worker_time(a["accepted_at"]),
        "answerContent": a["answer"],
        "submissionTime": worker_time(a["submitted_at"]),
        "timeSpentInSeconds": round(max(a["submitted_at"] - a["accepted_at"], 0.0), 3),
        "workerId": a["worker_id"],
        "workerMetadata": {"identityData": {
            "identityProviderType": "Cognito",
            "issuer": a.get("issuer", ""),
            "sub": a["worker_sub"],
        }},
    } for a in answers]}


def consolidation_response(entries: list[tuple[int, dict]]) -> list[dict]:
    """The body of a consolidation-response file: one entry per data object."""
    return [{"datasetObjectId": str(index), "consolidatedAnnotation": {"content": content}}
            for index, content in entries]


def augmented_line(data_object: dict, attribute: str, label: Any, metadata: dict | None) -> str:
    """One line of the output manifest: the input keys kept (in order), the label added."""
    out = {k: v for k, v in data_object.items() if k not in (attribute, f"{attribute}-metadata")}
    if metadata is not None:
        out[attribute] = label
        out[f"{attribute}-metadata"] = metadata
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"))
