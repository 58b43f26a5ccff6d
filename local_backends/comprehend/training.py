"""Training and scoring of custom document classifiers with scikit-learn.

The model is TF-IDF features (word 1-2-grams and character 2-5-grams) with a logistic
regression (one-vs-rest for ``MULTI_LABEL``). As AWS does, 10 % of the training documents
(stratified) are held out to compute ``EvaluationMetrics`` unless a test set is given; the
model that is kept is the one those metrics measure.

Run as ``python -m local_backends.comprehend.training <db> <arn> <folder> <home>`` by
``CreateDocumentClassifier``: the training runs in its own process, so it outlives the
caller as AWS's does; the status moves SUBMITTED -> TRAINING -> TRAINED or IN_ERROR. When
the classifier has an ``OutputDataConfig``, the process writes AWS's training output there,
``<S3Uri>/<account>-CLR-<id>/output/output.tar.gz`` holding ``confusion_matrix.json``
(rows: actual labels, columns: predicted), through the S3 of the session that created the
classifier (``AWS_ML_JOB_SESSION``), and describe then reports that URI.
"""
from __future__ import annotations

import csv
import io
import json
import os
import pickle
import sys
import time
import traceback
from pathlib import Path

TEST_FRACTION = 0.1
SEED = 0


def parse_csv(data: str, mode: str, delimiter: str) -> tuple[list[str], list]:
    """``label,text`` rows without a header (labels joined by ``delimiter`` in MULTI_LABEL)."""
    texts, labels = [], []
    for row in csv.reader(io.StringIO(data)):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) < 2:
            raise ValueError(f"a training row has no text after its label: {row!r}")
        label, text = row[0].strip(), ",".join(row[1:])
        texts.append(text)
        labels.append([l for l in label.split(delimiter) if l] if mode == "MULTI_LABEL" else label)
    return texts, labels


def parse_manifest(data: str, mode: str, attribute: str) -> tuple[list[str], list]:
    """Augmented-manifest lines: ``source`` text and the label attribute (a class name, or
    Ground Truth's class index with ``<attribute>-metadata`` naming it)."""
    texts, labels = [], []
    for line in data.splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        value, meta = record[attribute], record.get(f"{attribute}-metadata", {})
        if mode == "MULTI_LABEL":
            values = value if isinstance(value, list) else [value]
            names = meta.get("class-map", {})
            label = [names.get(str(v), str(v)) for v in values]
        else:
            label = meta.get("class-name", str(value)) if isinstance(value, int) else str(value)
        texts.append(record["source"])
        labels.append(label)
    return texts, labels


def build_model(mode: str):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline, make_union

    features = make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                          TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True))
    linear = LogisticRegression(C=30, max_iter=3000)
    return make_pipeline(features, OneVsRestClassifier(linear) if mode == "MULTI_LABEL" else linear)


def train(texts: list[str], labels: list, mode: str, test: tuple[list[str], list] | None):
    """Fit the model; return ``(model, label_binarizer_or_None, ClassifierMetadata)``."""
    import numpy as np
    from sklearn import metrics
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import MultiLabelBinarizer

    binarizer = None
    if mode == "MULTI_LABEL":
        binarizer = MultiLabelBinarizer()
        y = binarizer.fit_transform(labels)
        classes = list(binarizer.classes_)
    else:
        y = np.array(labels)
        classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError(f"training data must have at least 2 labels; found {len(classes)}")
    if test is None:
        stratify = y if mode == "MULTI_CLASS" and min(np.unique(y, return_counts=True)[1]) >= 2 else None
        x_train, x_test, y_train, y_test = train_test_split(
            texts, y, test_size=TEST_FRACTION, random_state=SEED, stratify=stratify)
    else:
        x_train, y_train = texts, y
        x_test = test[0]
        y_test = binarizer.transform(test[1]) if binarizer is not None else np.array(test[1])
    model = build_model(mode).fit(x_train, y_train)
    predicted = model.predict(x_test)
    if mode == "MULTI_LABEL":   # one [[TN, FP], [FN, TP]] matrix a label
        matrix = metrics.multilabel_confusion_matrix(y_test, predicted).tolist()
    else:
        matrix = metrics.confusion_matrix(y_test, predicted, labels=classes).tolist()
    confusion = {"type": "multi_label" if mode == "MULTI_LABEL" else "multi_class",
                 "confusion_matrix": matrix, "labels": [str(c) for c in classes],
                 "all_labels": [str(c) for c in classes]}
    average = "macro"
    evaluation = {
        "Accuracy": metrics.accuracy_score(y_test, predicted),
        "Precision": metrics.precision_score(y_test, predicted, average=average, zero_division=0),
        "Recall": metrics.recall_score(y_test, predicted, average=average, zero_division=0),
        "F1Score": metrics.f1_score(y_test, predicted, average=average, zero_division=0),
        "MicroPrecision": metrics.precision_score(y_test, predicted, average="micro", zero_division=0),
        "MicroRecall": metrics.recall_score(y_test, predicted, average="micro", zero_division=0),
        "MicroF1Score": metrics.f1_score(y_test, predicted, average="micro", zero_division=0),
        "HammingLoss": metrics.hamming_loss(y_test, predicted),
    }
    metadata = {"NumberOfLabels": len(classes), "NumberOfTrainedDocuments": len(x_train),
                "NumberOfTestDocuments": len(x_test),
                "EvaluationMetrics": {k: float(v) for k, v in evaluation.items()}}
    return model, binarizer, metadata, confusion


def load_documents(folder: Path, name: str, props: dict, mode: str):
    data = (folder / name).read_text(encoding="utf-8")
    config = props["InputDataConfig"]
    if config.get("DataFormat", "COMPREHEND_CSV") == "AUGMENTED_MANIFEST":
        attribute = config["AugmentedManifests"][0]["AttributeNames"][0]
        return parse_manifest(data, mode, attribute)
    return parse_csv(data, mode, config.get("LabelDelimiter", "|"))


def write_output(home: Path, arn: str, props: dict, confusion: dict) -> str | None:
    """Put the training output archive under the classifier's ``OutputDataConfig`` (if any)
    and return its ``s3://`` URI."""
    import tarfile
    import uuid

    prefix = (props.get("OutputDataConfig") or {}).get("S3Uri")
    if not prefix:
        return None
    from local_backends.core.base import Peers

    _, _, _, region, account, _ = arn.split(":", 5)
    bucket, _, key = prefix[5:].partition("/")
    key = f"{key.rstrip('/') + '/' if key else ''}{account}-CLR-{uuid.uuid4().hex}/output/output.tar.gz"
    body = json.dumps(confusion, indent=1).encode()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        member = tarfile.TarInfo("confusion_matrix.json")
        member.size, member.mtime = len(body), int(time.time())
        tar.addfile(member, io.BytesIO(body))
    s3 = Peers.standalone(home, region, account).client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=archive.getvalue())
    return f"s3://{bucket}/{key}"


def run(db_path: Path, arn: str, folder: Path, home: Path) -> None:
    """Train the classifier ``arn`` from the files in ``folder`` and record the outcome."""
    from .store import SCHEMA
    from local_backends.core.state import SqliteStore

    store = SqliteStore(db_path, SCHEMA)
    with store.transaction() as db:
        row = db.execute("SELECT status, mode, props FROM classifiers WHERE arn = ?", (arn,)).fetchone()
        if row is None or row["status"] != "SUBMITTED":
            return  # deleted or stopped before training began
        db.execute("UPDATE classifiers SET status = 'TRAINING', training_start = ? WHERE arn = ?",
                   (time.time(), arn))
    mode, props = row["mode"], json.loads(row["props"])
    try:
        texts, labels = load_documents(folder, "train.data", props, mode)
        test = load_documents(folder, "test.data", props, mode) if (folder / "test.data").exists() else None
        model, binarizer, metadata, confusion = train(texts, labels, mode, test)
        tmp = folder / f"model.pkl.{os.getpid()}.tmp"
        with open(tmp, "wb") as fh:
            pickle.dump({"mode": mode, "model": model, "binarizer": binarizer}, fh)
        os.replace(tmp, folder / "model.pkl")
        try:
            output = write_output(home, arn, props, confusion)
        except Exception as exc:  # an unwritable output location fails the training, as on AWS
            raise RuntimeError(f"could not write the training output to "
                               f"{props['OutputDataConfig']['S3Uri']}: {exc}") from exc
        if output:
            props["OutputDataConfig"] = {**props["OutputDataConfig"], "S3Uri": output}
    except Exception as exc:  # the classifier records why it failed, as AWS's does
        traceback.print_exc()
        now = time.time()
        with store.transaction() as db:
            db.execute("UPDATE classifiers SET status = 'IN_ERROR', message = ?, training_end = ?, "
                       "end_time = ? WHERE arn = ? AND status IN ('TRAINING', 'STOP_REQUESTED')",
                       (f"{type(exc).__name__}: {exc}", now, now, arn))
        return
    now = time.time()
    with store.transaction() as db:
        db.execute("UPDATE classifiers SET status = 'TRAINED', metadata = ?, props = ?, training_end = ?, "
                   "end_time = ? WHERE arn = ? AND status = 'TRAINING'",
                   (json.dumps(metadata), json.dumps(props), now, now, arn))
        stopped = db.execute("UPDATE classifiers SET status = 'STOPPED', training_end = ?, end_time = ? "
                             "WHERE arn = ? AND status = 'STOP_REQUESTED'", (now, now, arn)).rowcount
    if stopped:
        (folder / "model.pkl").unlink(missing_ok=True)


if __name__ == "__main__":
    run(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
