"""Custom document classification: classifiers trained with scikit-learn in their own
process (:mod:`.training`), endpoints that serve them, and ``ClassifyDocument``."""
from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from local_backends.core.base import operation
from local_backends.core.errors import AwsError
from local_backends.core.times import utc_datetime as _dt

from .errors import (InvalidRequestException, ResourceInUseException, ResourceNotFoundException,
                     ResourceUnavailableException)
from .limits import SINGLE_DOCUMENT_BYTES, check_language, check_text_size
from .listing import list_rows
from .store import open_store


PROPS = ("InputDataConfig", "OutputDataConfig", "DataAccessRoleArn", "VolumeKmsKeyId",
         "VpcConfig", "ModelKmsKeyId")
TERMINAL = ("TRAINED", "TRAINED_WITH_WARNING", "IN_ERROR", "STOPPED")
_models: dict[tuple[str, float], dict] = {}
_models_lock = threading.Lock()


def _split_s3_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://") or len(uri) <= 5:
        raise InvalidRequestException(f"Invalid S3 URI: {uri}")
    bucket, _, prefix = uri[5:].partition("/")
    return bucket, prefix


class ClassifierMixin:
    """Document classifiers, their endpoints and ``ClassifyDocument``."""

    @property
    def _store(self):
        store = getattr(self, "_comprehend_store", None)
        if store is None:
            store = self._comprehend_store = open_store(self.home)
        return store

    # ------------------------------------------------------------------ reading S3

    def _read_s3(self, uri: str) -> str:
        """The text of the object ``uri``, or of every object under that prefix, joined."""
        bucket, prefix = _split_s3_uri(uri)
        s3 = self.peers.client("s3")
        keys = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys += [o["Key"] for o in page.get("Contents", []) if not o["Key"].endswith("/")]
        if not keys:
            raise InvalidRequestException(f"No input data found at {uri}")
        parts = [s3.get_object(Bucket=bucket, Key=k)["Body"].read().decode("utf-8-sig") for k in keys]
        return "\n".join(p.rstrip("\n") for p in parts) + "\n"

    # ------------------------------------------------------------------ classifiers

    def _classifier_row(self, arn: str):
        row = self._store.query_one("SELECT * FROM classifiers WHERE arn = ?", (arn,))
        if row is None:
            raise ResourceNotFoundException(f"RESOURCE_NOT_FOUND: Could not find specified resource {arn}")
        return row

    @staticmethod
    def _classifier_properties(row) -> dict:
        props = json.loads(row["props"])
        out = {"DocumentClassifierArn": row["arn"], "LanguageCode": row["language"],
               "Status": row["status"], "SubmitTime": _dt(row["submit_time"]), "Mode": row["mode"],
               **{k: props[k] for k in PROPS if k in props}}
        if row["message"]:
            out["Message"] = row["message"]
        for key, col in (("TrainingStartTime", "training_start"), ("TrainingEndTime", "training_end"),
                         ("EndTime", "end_time")):
            if row[col] is not None:
                out[key] = _dt(row[col])
        if row["version"]:
            out["VersionName"] = row["version"]
        if row["metadata"]:
            out["ClassifierMetadata"] = json.loads(row["metadata"])
        return out

    @operation
    def create_document_classifier(self, DocumentClassifierName: str, DataAccessRoleArn: str,
                                   InputDataConfig: dict, LanguageCode: str,
                                   VersionName: str | None = None, Tags: list | None = None,
                                   OutputDataConfig: dict | None = None,
                                   ClientRequestToken: str | None = None,
                                   VolumeKmsKeyId: str | None = None, VpcConfig: dict | None = None,
                                   Mode: str = "MULTI_CLASS", ModelKmsKeyId: str | None = None,
                                   ModelPolicy: str | None = None) -> dict:
        check_language("custom_classification", LanguageCode)  # before anything is stored
        fmt = InputDataConfig.get("DataFormat", "COMPREHEND_CSV")
        if fmt == "COMPREHEND_CSV" and not InputDataConfig.get("S3Uri"):
            raise InvalidRequestException("InputDataConfig.S3Uri is required for COMPREHEND_CSV data")
        if fmt == "AUGMENTED_MANIFEST" and not InputDataConfig.get("AugmentedManifests"):
            raise InvalidRequestException("InputDataConfig.AugmentedManifests is required for "
                                          "AUGMENTED_MANIFEST data")
        if InputDataConfig.get("LabelDelimiter") and Mode != "MULTI_LABEL":
            raise InvalidRequestException("LabelDelimiter is only valid in MULTI_LABEL mode")
        if InputDataConfig.get("DocumentType", "PLAIN_TEXT_DOCUMENT") != "PLAIN_TEXT_DOCUMENT":
            from local_backends.core.errors import NotImplementedByBackend
            raise NotImplementedByBackend("comprehend", "CreateDocumentClassifier of "
                                          "SEMI_STRUCTURED_DOCUMENT", "local")
        resource = f"document-classifier/{DocumentClassifierName}"
        if VersionName:
            resource += f"/version/{VersionName}"
        arn = self.arn(resource)
        folder = self.home / "comprehend" / "classifiers" / uuid.uuid4().hex
        props = {"InputDataConfig": InputDataConfig, "DataAccessRoleArn": DataAccessRoleArn}
        for key, value in (("OutputDataConfig", OutputDataConfig), ("VolumeKmsKeyId", VolumeKmsKeyId),
                           ("VpcConfig", VpcConfig), ("ModelKmsKeyId", ModelKmsKeyId)):
            if value is not None:
                props[key] = value
        with self._store.transaction() as db:
            if db.execute("SELECT 1 FROM classifiers WHERE arn = ?", (arn,)).fetchone():
                raise ResourceInUseException(f"Classifier {arn} already exists")
            db.execute("INSERT INTO classifiers (arn, name, version, status, language, mode, props, "
                       "submit_time, folder) VALUES (?, ?, ?, 'SUBMITTED', ?, ?, ?, ?, ?)",
                       (arn, DocumentClassifierName, VersionName or "", LanguageCode, Mode,
                        json.dumps(props), time.time(), str(folder)))
        try:  # AWS reads the data when training starts: a bad location ends IN_ERROR
            folder.mkdir(parents=True, exist_ok=True)
            if fmt == "AUGMENTED_MANIFEST":
                manifests = InputDataConfig["AugmentedManifests"]
                train = [m for m in manifests if m.get("Split", "TRAIN") == "TRAIN"]
                test = [m for m in manifests if m.get("Split") == "TEST"]
                (folder / "train.data").write_text("".join(self._read_s3(m["S3Uri"]) for m in train))
                if test:
                    (folder / "test.data").write_text("".join(self._read_s3(m["S3Uri"]) for m in test))
            else:
                (folder / "train.data").write_text(self._read_s3(InputDataConfig["S3Uri"]))
                if InputDataConfig.get("TestS3Uri"):
                    (folder / "test.data").write_text(self._read_s3(InputDataConfig["TestS3Uri"]))
        except Exception as exc:
            message = exc.message if isinstance(exc, AwsError) else str(exc)
            now = time.time()
            with self._store.transaction() as db:
                db.execute("UPDATE classifiers SET status = 'IN_ERROR', message = ?, end_time = ? "
                           "WHERE arn = ?", (f"Could not read the input data: {message}", now, arn))
            return {"DocumentClassifierArn": arn}
        self._start_training(arn, folder)
        return {"DocumentClassifierArn": arn}

    def _start_training(self, arn: str, folder: Path) -> None:
        import os
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env.update(self.peers.child_env)   # the output reaches S3 as this session's does
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        log = open(folder / "training.log", "wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "local_backends.comprehend.training",
             str(self._store.path), arn, str(folder), str(self.home)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=root,
            start_new_session=True)
        log.close()
        threading.Thread(target=proc.wait, daemon=True).start()  # reap it when it ends

    @operation
    def describe_document_classifier(self, DocumentClassifierArn: str) -> dict:
        return {"DocumentClassifierProperties":
                self._classifier_properties(self._classifier_row(DocumentClassifierArn))}

    @operation
    def list_document_classifiers(self, Filter: dict | None = None, NextToken: str | None = None,
                                  MaxResults: int = 100) -> dict:
        rows, token = list_rows(self._store, "classifiers", "submit_time, arn", Filter, NextToken, MaxResults,
                                equals={"Status": "status", "DocumentClassifierName": "name"},
                                time_column="submit_time", time_filter="SubmitTime")
        out = {"DocumentClassifierPropertiesList": [self._classifier_properties(r) for r in rows]}
        if token:
            out["NextToken"] = token
        return out

    @operation
    def delete_document_classifier(self, DocumentClassifierArn: str) -> dict:
        with self._store.transaction() as db:
            row = db.execute("SELECT status, folder FROM classifiers WHERE arn = ?",
                             (DocumentClassifierArn,)).fetchone()
            if row is None:
                raise ResourceNotFoundException(
                    f"RESOURCE_NOT_FOUND: Could not find specified resource {DocumentClassifierArn}")
            if row["status"] not in TERMINAL:
                raise ResourceInUseException(
                    f"Classifier {DocumentClassifierArn} is {row['status']}: only a classifier in a "
                    f"terminal state can be deleted")
            if db.execute("SELECT 1 FROM endpoints WHERE model_arn = ?",
                          (DocumentClassifierArn,)).fetchone():
                raise ResourceInUseException(
                    f"Classifier {DocumentClassifierArn} is used by an endpoint")
            db.execute("DELETE FROM classifiers WHERE arn = ?", (DocumentClassifierArn,))
        shutil.rmtree(row["folder"], ignore_errors=True)  # the record is gone: files are garbage
        return {}

    @operation
    def stop_training_document_classifier(self, DocumentClassifierArn: str) -> dict:
        with self._store.transaction() as db:
            row = db.execute("SELECT status FROM classifiers WHERE arn = ?",
                             (DocumentClassifierArn,)).fetchone()
            if row is None:
                raise ResourceNotFoundException(
                    f"RESOURCE_NOT_FOUND: Could not find specified resource {DocumentClassifierArn}")
            if row["status"] == "SUBMITTED":  # the trainer has not begun: it will not
                db.execute("UPDATE classifiers SET status = 'STOPPED', end_time = ? WHERE arn = ?",
                           (time.time(), DocumentClassifierArn))
            elif row["status"] == "TRAINING":  # the trainer ends it STOPPED, keeping no model
                db.execute("UPDATE classifiers SET status = 'STOP_REQUESTED' WHERE arn = ?",
                           (DocumentClassifierArn,))
        return {}

    # ------------------------------------------------------------------ endpoints

    @staticmethod
    def _endpoint_properties(row) -> dict:
        out = {"EndpointArn": row["arn"], "Status": row["status"], "ModelArn": row["model_arn"],
               "DesiredModelArn": row["model_arn"], "DesiredInferenceUnits": row["units"],
               "CurrentInferenceUnits": row["units"], "CreationTime": _dt(row["creation_time"]),
               "LastModifiedTime": _dt(row["modified_time"])}
        if row["role_arn"]:
            out["DataAccessRoleArn"] = row["role_arn"]
        return out

    def _endpoint_row(self, arn: str):
        row = self._store.query_one("SELECT * FROM endpoints WHERE arn = ?", (arn,))
        if row is None:
            raise ResourceNotFoundException(f"RESOURCE_NOT_FOUND: Could not find specified resource {arn}")
        return row

    @operation
    def create_endpoint(self, EndpointName: str, DesiredInferenceUnits: int,
                        ModelArn: str | None = None, ClientRequestToken: str | None = None,
                        Tags: list | None = None, DataAccessRoleArn: str | None = None,
                        FlywheelArn: str | None = None) -> dict:
        if ModelArn is None:
            raise InvalidRequestException("ModelArn is required (flywheels are not served locally)")
        arn = self.arn(f"document-classifier-endpoint/{EndpointName}")
        now = time.time()
        with self._store.transaction() as db:
            model = db.execute("SELECT status FROM classifiers WHERE arn = ?", (ModelArn,)).fetchone()
            if model is None:
                raise ResourceNotFoundException(
                    f"RESOURCE_NOT_FOUND: Could not find specified resource {ModelArn}")
            if model["status"] not in ("TRAINED", "TRAINED_WITH_WARNING"):
                raise ResourceUnavailableException(
                    f"Model {ModelArn} is {model['status']}: an endpoint needs a trained model")
            if db.execute("SELECT 1 FROM endpoints WHERE name = ?", (EndpointName,)).fetchone():
                raise ResourceInUseException(f"Endpoint {arn} already exists")
            # The model is loaded on the first ClassifyDocument: the endpoint serves at once.
            db.execute("INSERT INTO endpoints VALUES (?, ?, ?, 'IN_SERVICE', ?, ?, ?, ?)",
                       (arn, EndpointName, ModelArn, DesiredInferenceUnits, DataAccessRoleArn, now, now))
        return {"EndpointArn": arn, "ModelArn": ModelArn}

    @operation
    def describe_endpoint(self, EndpointArn: str) -> dict:
        return {"EndpointProperties": self._endpoint_properties(self._endpoint_row(EndpointArn))}

    @operation
    def list_endpoints(self, Filter: dict | None = None, NextToken: str | None = None,
                       MaxResults: int = 100) -> dict:
        rows, token = list_rows(self._store, "endpoints", "creation_time, arn", Filter, NextToken, MaxResults,
                                equals={"ModelArn": "model_arn", "Status": "status"},
                                time_column="creation_time", time_filter="CreationTime")
        out = {"EndpointPropertiesList": [self._endpoint_properties(r) for r in rows]}
        if token:
            out["NextToken"] = token
        return out

    @operation
    def delete_endpoint(self, EndpointArn: str) -> dict:
        with self._store.transaction() as db:
            if db.execute("DELETE FROM endpoints WHERE arn = ?", (EndpointArn,)).rowcount == 0:
                raise ResourceNotFoundException(
                    f"RESOURCE_NOT_FOUND: Could not find specified resource {EndpointArn}")
        return {}

    # ------------------------------------------------------------------ inference

    def _model(self, classifier_arn: str) -> dict:
        row = self._classifier_row(classifier_arn)
        path = Path(row["folder"]) / "model.pkl"
        key = (str(path), path.stat().st_mtime)
        model = _models.get(key)
        if model is None:
            with _models_lock:
                model = _models.get(key)
                if model is None:
                    with open(path, "rb") as fh:
                        model = _models[key] = pickle.load(fh)  # written by our own trainer
        return model

    @operation
    def classify_document(self, EndpointArn: str, Text: str | None = None, Bytes: bytes | None = None,
                          DocumentReaderConfig: dict | None = None) -> dict:
        if Bytes is not None or DocumentReaderConfig is not None:
            from local_backends.core.errors import NotImplementedByBackend
            raise NotImplementedByBackend("comprehend", "ClassifyDocument of semi-structured "
                                          "documents (Bytes)", "local")
        if Text is None:
            raise InvalidRequestException("Text is required")
        check_text_size(Text, SINGLE_DOCUMENT_BYTES["ClassifyDocument"])
        row = self._store.query_one("SELECT model_arn, status FROM endpoints WHERE arn = ?", (EndpointArn,))
        if row is None or row["status"] != "IN_SERVICE":
            raise ResourceUnavailableException(
                f"Specified resource {EndpointArn} is not available: the endpoint does not exist "
                f"or is not IN_SERVICE")
        saved = self._model(row["model_arn"])
        probabilities = saved["model"].predict_proba([Text])[0]
        if saved["mode"] == "MULTI_LABEL":
            names = saved["binarizer"].classes_
            labels = sorted(zip(names, probabilities), key=lambda p: -p[1])
            return {"Labels": [{"Name": str(n), "Score": float(s)} for n, s in labels]}
        names = saved["model"].classes_
        classes = sorted(zip(names, probabilities), key=lambda p: -p[1])
        return {"Classes": [{"Name": str(n), "Score": float(s)} for n, s in classes]}
