"""Asynchronous analysis jobs: dominant language, sentiment, entities, key phrases and
document classification over documents in S3, with AWS's ``output.tar.gz``.

A job reads its input (``ONE_DOC_PER_LINE``: each line of each object under the prefix is
a document; ``ONE_DOC_PER_FILE``: each object is one) through the session's S3 client,
runs the same analysis as the real-time operations, and writes one JSON line per document
(``File``, ``Line`` for line input, and the result members) to
``<OutputDataConfig.S3Uri>/<account>-<TYPE>-<job id>/output/output.tar.gz`` (a member
named ``output``). It runs in a thread of the process that started it (its S3 client is
that session's), so a job whose process ends before it does stays ``IN_PROGRESS``.
A document over the real-time size limit gets an error line
(``ErrorCode``/``ErrorMessage``) instead of a result, and the job still completes.
"""
from __future__ import annotations

import io
import json
import tarfile
import threading
import time
import uuid
from typing import Callable

from botocore import xform_name

from local_backends.core.base import operation
from local_backends.core.errors import NotImplementedByBackend
from local_backends.core.state import SqliteStore
from local_backends.core.times import utc_datetime as _dt

from . import entities as _entities
from . import language as _language
from . import nlp as _nlp
from . import sentiment as _sentiment
from .errors import (InvalidRequestException, JobNotFoundException, LanguageNotServed,
                     ResourceNotFoundException, ResourceUnavailableException)
from .limits import SINGLE_DOCUMENT_BYTES, check_language
from .listing import list_rows


SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    name         TEXT,
    status       TEXT NOT NULL,
    message      TEXT,
    props        TEXT NOT NULL,     -- JSON: the request's members, OutputDataConfig resolved
    submit_time  REAL NOT NULL,
    end_time     REAL
);
CREATE INDEX IF NOT EXISTS jobs_by_kind ON jobs (kind, submit_time);
"""

# kind -> (API noun, output folder tag, ARN resource type, real-time operation for limits)
KINDS = {
    "dominant_language": ("DominantLanguageDetection", "LANGUAGE", "dominant-language-detection-job",
                          "DetectDominantLanguage"),
    "sentiment": ("SentimentDetection", "SENTIMENT", "sentiment-detection-job", "DetectSentiment"),
    "entities": ("EntitiesDetection", "NER", "entities-detection-job", "DetectEntities"),
    "key_phrases": ("KeyPhrasesDetection", "KP", "key-phrases-detection-job", "DetectKeyPhrases"),
    "document_classification": ("DocumentClassification", "CLN", "document-classification-job",
                                "ClassifyDocument"),
}
FAMILY = {"sentiment": ("sentiment", _sentiment.SERVED), "entities": ("entities", _nlp.SERVED),
          "key_phrases": ("key_phrases", _nlp.SERVED)}
OPTIONAL = ("JobName", "LanguageCode", "VolumeKmsKeyId", "VpcConfig", "DocumentClassifierArn")


def _split(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://") or len(uri) <= 5:
        raise InvalidRequestException(f"Invalid S3 URI: {uri}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


class JobsMixin:
    """``Start*Job``, ``Describe*Job``, ``List*Jobs`` and ``Stop*Job`` of the analyses above."""

    @property
    def _jobs(self) -> SqliteStore:
        store = getattr(self, "_comprehend_jobs", None)
        if store is None:
            store = self._comprehend_jobs = SqliteStore(self.home / "comprehend" / "jobs.db", SCHEMA)
        return store

    # ------------------------------------------------------------------ the analyses

    def _analyser(self, kind: str, props: dict) -> Callable[[str], dict]:
        language = props.get("LanguageCode")
        if kind == "dominant_language":
            return lambda t: {"Languages": _language.dominant_languages(t)}
        if kind == "sentiment":
            return lambda t: _sentiment.sentiment(t, language)
        if kind == "entities":
            return lambda t: {"Entities": _entities.entities(t, language)}
        if kind == "key_phrases":
            return lambda t: {"KeyPhrases": _nlp.key_phrases(t, language)}
        classifier = props["DocumentClassifierArn"]
        saved = self._model(classifier)  # from ClassifierMixin

        def classify(text: str) -> dict:
            probabilities = saved["model"].predict_proba([text])[0]
            multi = saved["mode"] == "MULTI_LABEL"
            names = saved["binarizer"].classes_ if multi else saved["model"].classes_
            ranked = sorted(zip(names, probabilities), key=lambda p: -p[1])
            return {"Labels" if multi else "Classes":
                    [{"Name": str(n), "Score": float(s)} for n, s in ranked]}
        return classify

    def _documents(self, config: dict):
        """(file name, line number or None, text) for every input document."""
        bucket, prefix = _split(config["S3Uri"])
        s3 = self.peers.client("s3")
        keys = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys += [o["Key"] for o in page.get("Contents", []) if not o["Key"].endswith("/")]
        if not keys:
            raise InvalidRequestException(f"No input data found at {config['S3Uri']}")
        per_line = config.get("InputFormat", "ONE_DOC_PER_FILE") == "ONE_DOC_PER_LINE"
        for key in keys:
            text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8-sig")
            name = key.rsplit("/", 1)[-1]
            if per_line:
                for number, line in enumerate(text.splitlines()):
                    yield name, number, line
            else:
                yield name, None, text

    def _run(self, job_id: str, kind: str, props: dict) -> None:
        limit = SINGLE_DOCUMENT_BYTES[KINDS[kind][3]]
        try:
            with self._jobs.transaction() as db:
                if db.execute("UPDATE jobs SET status = 'IN_PROGRESS' WHERE id = ? AND status = 'SUBMITTED'",
                              (job_id,)).rowcount == 0:
                    db.execute("UPDATE jobs SET status = 'STOPPED', end_time = ? WHERE id = ?",
                               (time.time(), job_id))
                    return
            analyse = self._analyser(kind, props)
            lines = []
            for i, (name, number, text) in enumerate(self._documents(props["InputDataConfig"])):
                if i % 50 == 0 and self._jobs.query_one(
                        "SELECT status FROM jobs WHERE id = ?", (job_id,))["status"] == "STOP_REQUESTED":
                    with self._jobs.transaction() as db:
                        db.execute("UPDATE jobs SET status = 'STOPPED', end_time = ? WHERE id = ?",
                                   (time.time(), job_id))
                    return
                record = {"File": name} if number is None else {"File": name, "Line": number}
                size = len(text.encode("utf-8"))
                if size > limit:
                    record.update(ErrorCode="TEXT_SIZE_LIMIT_EXCEEDED",
                                  ErrorMessage=f"Document size {size} bytes exceeds the limit of {limit} bytes")
                elif text.strip():
                    record.update(analyse(text))
                else:
                    continue  # an empty line is no document
                lines.append(json.dumps(record, ensure_ascii=False))
            body = ("\n".join(lines) + "\n").encode("utf-8")
            archive = io.BytesIO()
            with tarfile.open(fileobj=archive, mode="w:gz") as tar:
                member = tarfile.TarInfo("output")
                member.size, member.mtime = len(body), int(time.time())
                tar.addfile(member, io.BytesIO(body))
            bucket, key = _split(props["OutputDataConfig"]["S3Uri"])
            self.peers.client("s3").put_object(Bucket=bucket, Key=key, Body=archive.getvalue())
        except Exception as exc:  # recorded on the job, as AWS's FAILED jobs carry a Message
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            with self._jobs.transaction() as db:
                db.execute("UPDATE jobs SET status = 'FAILED', message = ?, end_time = ? WHERE id = ?",
                           (message, time.time(), job_id))
            return
        with self._jobs.transaction() as db:
            db.execute("UPDATE jobs SET status = 'COMPLETED', end_time = ? WHERE id = ?",
                       (time.time(), job_id))

    # ------------------------------------------------------------------ operations

    def _start(self, kind: str, params: dict) -> dict:
        noun, tag, resource, _ = KINDS[kind]
        if params["InputDataConfig"].get("DocumentReaderConfig") is not None:
            raise NotImplementedByBackend("comprehend", f"Start{noun}Job with DocumentReaderConfig", "local")
        if kind in FAMILY:
            family, served = FAMILY[kind]
            check_language(family, params["LanguageCode"])
            if params["LanguageCode"] not in served:
                raise LanguageNotServed(f"Start{noun}Job", params["LanguageCode"], served)
        if kind == "document_classification":
            arn = params.get("DocumentClassifierArn")
            if arn is None:
                raise InvalidRequestException("DocumentClassifierArn is required "
                                              "(flywheels are not served locally)")
            row = self._store.query_one("SELECT status FROM classifiers WHERE arn = ?", (arn,))
            if row is None:
                raise ResourceNotFoundException(f"RESOURCE_NOT_FOUND: Could not find specified resource {arn}")
            if row["status"] not in ("TRAINED", "TRAINED_WITH_WARNING"):
                raise ResourceUnavailableException(f"Classifier {arn} is {row['status']}, not TRAINED")
        _split(params["InputDataConfig"]["S3Uri"])
        bucket, prefix = _split(params["OutputDataConfig"]["S3Uri"])
        job_id = uuid.uuid4().hex
        out_key = f"{prefix.rstrip('/') + '/' if prefix.strip('/') else ''}" \
                  f"{self.account_id}-{tag}-{job_id}/output/output.tar.gz"
        props = {k: params[k] for k in OPTIONAL if params.get(k) is not None}
        props.update(InputDataConfig=params["InputDataConfig"],
                     OutputDataConfig={**params["OutputDataConfig"], "S3Uri": f"s3://{bucket}/{out_key}"},
                     DataAccessRoleArn=params["DataAccessRoleArn"])
        props["InputDataConfig"].setdefault("InputFormat", "ONE_DOC_PER_FILE")
        with self._jobs.transaction() as db:
            db.execute("INSERT INTO jobs (id, kind, name, status, props, submit_time) "
                       "VALUES (?, ?, ?, 'SUBMITTED', ?, ?)",
                       (job_id, kind, params.get("JobName"), json.dumps(props), time.time()))
        threading.Thread(target=self._run, args=(job_id, kind, props), daemon=True,
                         name=f"comprehend-{kind}-{job_id}").start()
        out = {"JobId": job_id, "JobArn": self.arn(f"{resource}/{job_id}"), "JobStatus": "SUBMITTED"}
        if kind == "document_classification":
            out["DocumentClassifierArn"] = params["DocumentClassifierArn"]
        return out

    def _job_properties(self, row) -> dict:
        props = json.loads(row["props"])
        out = {"JobId": row["id"], "JobArn": self.arn(f"{KINDS[row['kind']][2]}/{row['id']}"),
               "JobStatus": row["status"], "SubmitTime": _dt(row["submit_time"]),
               **{k: v for k, v in props.items() if k != "JobName"}}
        if row["name"]:
            out["JobName"] = row["name"]
        if row["message"]:
            out["Message"] = row["message"]
        if row["end_time"] is not None:
            out["EndTime"] = _dt(row["end_time"])
        return out

    def _job_row(self, kind: str, job_id: str):
        row = self._jobs.query_one("SELECT * FROM jobs WHERE id = ? AND kind = ?", (job_id, kind))
        if row is None:
            raise JobNotFoundException(f"Could not find job {job_id}")
        return row

    def _describe(self, kind: str, JobId: str) -> dict:
        return {f"{KINDS[kind][0]}JobProperties": self._job_properties(self._job_row(kind, JobId))}

    def _list(self, kind: str, Filter: dict | None = None, NextToken: str | None = None,
              MaxResults: int = 100) -> dict:
        rows, token = list_rows(self._jobs, "jobs", "submit_time, id", Filter, NextToken, MaxResults,
                                equals={"JobName": "name", "JobStatus": "status"},
                                time_column="submit_time", time_filter="SubmitTime", fixed={"kind": kind})
        out = {f"{KINDS[kind][0]}JobPropertiesList": [self._job_properties(r) for r in rows]}
        if token:
            out["NextToken"] = token
        return out

    def _stop(self, kind: str, JobId: str) -> dict:
        with self._jobs.transaction() as db:
            row = db.execute("SELECT status FROM jobs WHERE id = ? AND kind = ?", (JobId, kind)).fetchone()
            if row is None:
                raise JobNotFoundException(f"Could not find job {JobId}")
            status = row["status"]
            if status in ("SUBMITTED", "IN_PROGRESS"):
                status = "STOP_REQUESTED"
                db.execute("UPDATE jobs SET status = ? WHERE id = ?", (status, JobId))
            elif status in ("COMPLETED", "FAILED"):
                raise InvalidRequestException(f"Job {JobId} is {status}: it cannot be stopped")
        return {"JobId": JobId, "JobStatus": status}


def _start_op(kind: str):
    def start(self, InputDataConfig: dict, OutputDataConfig: dict, DataAccessRoleArn: str,
              LanguageCode: str | None = None, JobName: str | None = None,
              DocumentClassifierArn: str | None = None, EntityRecognizerArn: str | None = None,
              FlywheelArn: str | None = None, ClientRequestToken: str | None = None,
              VolumeKmsKeyId: str | None = None, VpcConfig: dict | None = None,
              Tags: list | None = None) -> dict:
        if EntityRecognizerArn is not None or FlywheelArn is not None:
            raise NotImplementedByBackend("comprehend", f"Start{KINDS[kind][0]}Job with a custom "
                                          "entity recognizer or flywheel", "local")
        return self._start(kind, dict(InputDataConfig=InputDataConfig, OutputDataConfig=OutputDataConfig,
                                      DataAccessRoleArn=DataAccessRoleArn, LanguageCode=LanguageCode,
                                      JobName=JobName, DocumentClassifierArn=DocumentClassifierArn,
                                      VolumeKmsKeyId=VolumeKmsKeyId, VpcConfig=VpcConfig))
    return operation(start)


def _describe_op(kind: str):
    return operation(lambda self, JobId: self._describe(kind, JobId))


def _list_op(kind: str):
    return operation(lambda self, **params: self._list(kind, **params))


def _stop_op(kind: str):
    return operation(lambda self, JobId: self._stop(kind, JobId))


for _kind, (_noun, *_rest) in KINDS.items():
    _snake = xform_name(_noun)
    setattr(JobsMixin, f"start_{_snake}_job", _start_op(_kind))
    setattr(JobsMixin, f"describe_{_snake}_job", _describe_op(_kind))
    setattr(JobsMixin, f"list_{_snake}_jobs", _list_op(_kind))
    if _kind != "document_classification":  # AWS has no StopDocumentClassificationJob
        setattr(JobsMixin, f"stop_{_snake}_job", _stop_op(_kind))
