"""How a labelling job moves: tasks handed to workers, answers recorded, automated labelling,
consolidation and the output files.

Every step reads and writes the shared SQLite state (:mod:`.store`), so any process can move a
job on: the API process, a job's worker thread, the worker portal. ``advance`` is idempotent;
the one-off heavy steps (training the automated-labelling model, writing the final output) are
claimed in a transaction first so two processes never do them twice.
"""
from __future__ import annotations

import json
import logging
import os
import random
import time
from typing import Any, Callable

import numpy as np

from . import answers as ans
from . import automated, consolidation, manifest
from .store import ANSWERED, FAILED, MACHINE, OPEN_STATES, PENDING, QUEUED, UNLABELED, dumps
from .tasks import TASK_TYPES

logger = logging.getLogger("aws_ml")
TERMINAL = ("Completed", "Failed", "Stopped")
CLAIM_TIMEOUT = 300.0


class TaskUnavailable(LookupError):
    """The task is not (or no longer) assigned to this worker."""


class LabelingEngine:
    """Moves labelling jobs on. ``s3_for(region)`` gives an S3 client for the job's region."""

    def __init__(self, store, s3_for: Callable[[str], Any]) -> None:
        self.store = store
        self.s3_for = s3_for

    # -- reading ---------------------------------------------------------------------------
    def job(self, arn: str):
        return self.store.query_one("SELECT * FROM jobs WHERE arn=?", (arn,))

    @staticmethod
    def config(job) -> dict:
        return json.loads(job["config"])

    def counters(self, arn: str, total: int | None = None) -> dict:
        rows = dict(self.store.query("SELECT state, COUNT(*) FROM items WHERE job_arn=? GROUP BY state", (arn,)))
        human, machine, failed = rows.get(ANSWERED, 0), rows.get(MACHINE, 0), rows.get(FAILED, 0)
        total = sum(rows.values()) if total is None else total
        return {"TotalLabeled": human + machine, "HumanLabeled": human, "MachineLabeled": machine,
                "FailedNonRetryableError": failed, "Unlabeled": total - human - machine - failed}

    # -- tasks -----------------------------------------------------------------------------
    def next_task(self, worker_id: str, job_arn: str) -> dict | None:
        """The task this worker holds in the job, else a new one (an open object the worker
        has not answered, that still needs answers), else ``None``."""
        now = time.time()
        with self.store.transaction() as db:
            job = db.execute("SELECT * FROM jobs WHERE arn=?", (job_arn,)).fetchone()
            if job is None or job["status"] != "InProgress":
                return None
            cfg = json.loads(job["config"])
            db.execute("DELETE FROM answers WHERE job_arn=? AND status='taken' AND accepted_at<?",
                       (job_arn, now - cfg["time_limit"]))
            held = db.execute("SELECT idx, accepted_at FROM answers WHERE job_arn=? AND worker_id=? AND "
                              "status='taken'", (job_arn, worker_id)).fetchone()
            if held is not None:
                idx, accepted = held["idx"], held["accepted_at"]
            else:
                row = db.execute(
                    "SELECT i.idx FROM items i WHERE i.job_arn=? AND i.state=? AND NOT EXISTS "
                    "(SELECT 1 FROM answers a WHERE a.job_arn=i.job_arn AND a.idx=i.idx AND a.worker_id=?) "
                    "AND (SELECT COUNT(*) FROM answers a WHERE a.job_arn=i.job_arn AND a.idx=i.idx) < ? "
                    "ORDER BY i.idx LIMIT 1", (job_arn, PENDING, worker_id, cfg["workers_per_object"])).fetchone()
                if row is None:
                    return None
                idx, accepted = row["idx"], now
                db.execute("INSERT INTO answers VALUES (?,?,?,?,?,NULL,NULL)",
                           (job_arn, idx, worker_id, "taken", now))
            item = db.execute("SELECT data, task_input FROM items WHERE job_arn=? AND idx=?",
                              (job_arn, idx)).fetchone()
        return {"job_arn": job_arn, "job_name": job["name"], "region": job["region"], "index": idx,
                "task_type": cfg["task_type"], "labels": cfg["labels"], "accepted_at": accepted,
                "deadline": accepted + cfg["time_limit"], "data_object": json.loads(item["data"]),
                "input": json.loads(item["task_input"]), "worker_id": worker_id}

    def submit(self, job_arn: str, index: int, worker_id: str, answer: dict, sub: str = "") -> None:
        """Record a worker's answer (``answerContent``). When the object has all the answers it
        needs, write its worker-response file (every worker's answer, as AWS does) and move
        the job on."""
        job = self.job(job_arn)
        if job is None:
            raise TaskUnavailable("no such labeling job")
        cfg = self.config(job)
        task = TASK_TYPES[cfg["task_type"]]
        ans.normalise(task, answer, ans.label_names(cfg["label_config"]))   # AnswerError if it does not fit
        if job["status"] != "InProgress":
            raise TaskUnavailable(f"labeling job {job['name']} is {job['status']}")
        now = time.time()
        with self.store.transaction() as db:
            cur = db.execute("UPDATE answers SET status='submitted', submitted_at=?, answer=? WHERE job_arn=? "
                             "AND idx=? AND worker_id=? AND status='taken'",
                             (now, dumps({"answer": answer, "sub": sub or worker_id}), job_arn, index, worker_id))
            if cur.rowcount != 1:
                raise TaskUnavailable(f"task {index} of {job['name']} is not (or no longer) assigned to "
                                      f"worker {worker_id}")
            rows = db.execute("SELECT worker_id, accepted_at, submitted_at, answer FROM answers WHERE job_arn=? "
                              "AND idx=? AND status='submitted' ORDER BY submitted_at", (job_arn, index)).fetchall()
            complete = len(rows) >= cfg["workers_per_object"]
            if complete:
                db.execute("UPDATE items SET state=? WHERE job_arn=? AND idx=? AND state=?",
                           (ANSWERED, job_arn, index, PENDING))
        if not complete:
            return
        answers = []
        for r in rows:
            stored = json.loads(r["answer"])
            answers.append({"accepted_at": r["accepted_at"], "submitted_at": r["submitted_at"],
                            "answer": stored["answer"], "worker_id": r["worker_id"], "worker_sub": stored["sub"],
                            "issuer": cfg.get("issuer", "")})
        uri = manifest.worker_response_uri(cfg["output_path"], job["name"], index, now)
        self._put(job["region"], uri, json.dumps(manifest.worker_response(answers)).encode())
        self.advance(job_arn)

    # -- progression -----------------------------------------------------------------------
    def advance(self, job_arn: str) -> str:
        """Move the job on as far as it can go now; returns its status."""
        job = self.job(job_arn)
        if job is None or job["status"] in TERMINAL:
            return job["status"] if job else "Failed"
        if job["status"] == "Initializing":
            with self.store.transaction() as db:
                db.execute("UPDATE jobs SET status='InProgress', modified=? WHERE arn=? AND status='Initializing'",
                           (time.time(), job_arn))
            job = self.job(job_arn)
        cfg = self.config(job)
        if job["status"] == "InProgress":
            self._apply_stopping_conditions(job, cfg)
            if cfg.get("automated"):
                self._automated_round(job, cfg)
        states = dict(self.store.query("SELECT state, COUNT(*) FROM items WHERE job_arn=? GROUP BY state",
                                       (job_arn,)))
        if not any(states.get(s) for s in OPEN_STATES):
            self.finalize(job_arn)
        return self.job(job_arn)["status"]

    def _apply_stopping_conditions(self, job, cfg: dict) -> None:
        stop = cfg.get("stopping") or {}
        if not stop:
            return
        c = self.counters(job["arn"])
        total = c["TotalLabeled"] + c["FailedNonRetryableError"] + c["Unlabeled"]
        reached = ("MaxHumanLabeledObjectCount" in stop and c["HumanLabeled"] >= stop["MaxHumanLabeledObjectCount"]) \
            or ("MaxPercentageOfInputDatasetLabeled" in stop
                and c["TotalLabeled"] * 100 >= stop["MaxPercentageOfInputDatasetLabeled"] * total)
        if reached:
            self._close_open_items(job["arn"])

    def _close_open_items(self, job_arn: str) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM answers WHERE job_arn=? AND idx IN (SELECT idx FROM items WHERE job_arn=? "
                       "AND state IN (?,?))", (job_arn, job_arn, *OPEN_STATES))
            db.execute("UPDATE items SET state=? WHERE job_arn=? AND state IN (?,?)",
                       (UNLABELED, job_arn, *OPEN_STATES))

    def stop(self, job_arn: str) -> None:
        with self.store.transaction() as db:
            db.execute("UPDATE jobs SET status='Stopping', modified=? WHERE arn=? AND status IN "
                       "('Initializing','InProgress')", (time.time(), job_arn))
        self._close_open_items(job_arn)

    def _claim(self, job_arn: str, stage_from: tuple[str, ...], stage_to: str) -> bool:
        now = time.time()
        with self.store.transaction() as db:
            cur = db.execute("UPDATE jobs SET stage=?, claim=? WHERE arn=? AND (stage IN (%s) OR (stage=? AND claim<?))"
                             % ",".join("?" * len(stage_from)),
                             (stage_to, now, job_arn, *stage_from, stage_to, now - CLAIM_TIMEOUT))
            return cur.rowcount == 1

    # -- automated labelling ---------------------------------------------------------------
    def _automated_round(self, job, cfg: dict) -> None:
        arn = job["arn"]
        states = dict(self.store.query("SELECT state, COUNT(*) FROM items WHERE job_arn=? GROUP BY state", (arn,)))
        if states.get(PENDING) or not states.get(QUEUED):
            return
        if not self._claim(arn, ("human",), "training"):
            return
        job = self.job(arn)             # read again: another process may have run a round meanwhile
        try:
            self._train_and_label(job, self.config(job))
        finally:
            with self.store.transaction() as db:
                db.execute("UPDATE jobs SET stage='human', claim=NULL WHERE arn=?", (arn,))

    def _train_and_label(self, job, cfg: dict) -> None:
        arn, task = job["arn"], TASK_TYPES[cfg["task_type"]]
        rows = self.store.query("SELECT idx, state, data, task_input FROM items WHERE job_arn=?", (arn,))
        consensus = self._classification_labels(job, cfg)
        labelled = {i: int(c) for i, (c, _) in consensus.items()}
        queued = [r["idx"] for r in rows if r["state"] == QUEUED]
        inputs = {r["idx"]: json.loads(r["task_input"]) for r in rows}
        s3 = self.s3_for(job["region"])

        def features(ids):
            if task.media == "text":
                return [inputs[i]["taskObject"] for i in ids]
            out = []
            for i in ids:
                bucket, key = manifest.split_s3_uri(inputs[i]["taskObject"])
                out.append(automated.image_features(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
            return np.array(out)

        result = automated.auto_label(task.media, features, labelled, queued, len(cfg["labels"]),
                                      target=cfg["automated"]["target"],
                                      validation=cfg["automated"].get("validation", []))
        created = manifest.creation_date(time.time())
        model_uri = manifest.join_s3(manifest.job_prefix(cfg["output_path"], job["name"]),
                                     "activelearning/model/model.pkl")
        if result.model is not None:
            self._put(job["region"], model_uri, automated.model_bytes(result.model))
        batch = cfg["automated"]["batch"]
        to_people = result.uncertain[:batch]
        with self.store.transaction() as db:
            for idx, (cls, conf) in result.machine.items():
                label, meta = ans.classification_output(task, cfg["labels"], cls, conf, job["name"], created,
                                                        human=False)
                db.execute("UPDATE items SET state=?, label=?, metadata=? WHERE job_arn=? AND idx=? AND state=?",
                           (MACHINE, dumps(label), dumps(meta), arn, idx, QUEUED))
            db.executemany("UPDATE items SET state=? WHERE job_arn=? AND idx=? AND state=?",
                           [(PENDING, arn, idx, QUEUED) for idx in to_people])
            if result.model is not None:
                db.execute("UPDATE jobs SET final_model_arn=?, modified=? WHERE arn=?",
                           (cfg["automated"]["model_arn"], time.time(), arn))
            rounds = cfg["automated"].setdefault("rounds", [])
            rounds.append({"trainedOn": len(labelled), "threshold": round(result.threshold, 4),
                           "validationAccuracy": result.validation_accuracy,
                           "machineLabeled": len(result.machine), "sentToPeople": len(to_people)})
            db.execute("UPDATE jobs SET config=? WHERE arn=?", (dumps(cfg), arn))

    # -- consolidation -----------------------------------------------------------------------
    def _submitted(self, arn: str) -> list:
        rows = self.store.query("SELECT a.idx, a.worker_id, a.answer FROM answers a JOIN items i ON "
                                "a.job_arn=i.job_arn AND a.idx=i.idx WHERE a.job_arn=? AND a.status='submitted' "
                                "AND i.state=? ORDER BY a.idx, a.submitted_at", (arn, ANSWERED))
        return [{"idx": r["idx"], "worker_id": r["worker_id"], "answer": json.loads(r["answer"])["answer"]}
                for r in rows]

    def _classification_labels(self, job, cfg: dict, report: dict | None = None) -> dict[int, tuple[int, float]]:
        """Consolidated classes of the human-labelled objects: item -> (class, confidence)."""
        task = TASK_TYPES[cfg["task_type"]]
        names = cfg["labels"]
        rows = self._submitted(job["arn"])
        if not rows:
            return {}
        item_ids = sorted({r["idx"] for r in rows})
        item_pos = {i: k for k, i in enumerate(item_ids)}
        worker_ids = sorted({r["worker_id"] for r in rows})
        worker_pos = {w: k for k, w in enumerate(worker_ids)}
        items = [item_pos[r["idx"]] for r in rows]
        workers = [worker_pos[r["worker_id"]] for r in rows]
        labels = [ans.normalise(task, r["answer"], names) for r in rows]
        method = cfg.get("consolidation", "dawid-skene")
        if method == "majority-vote" or cfg["workers_per_object"] == 1:   # one answer: it is the label
            cons = consolidation.majority_vote(items, workers, labels, len(item_ids), len(names))
        else:
            cons = consolidation.dawid_skene(items, workers, labels, len(item_ids), len(names), len(worker_ids),
                                             one_coin=cfg["workers_per_object"] <= 3)
        single = cfg["workers_per_object"] == 1
        if report is not None:
            report.update(consolidation.quality_report(items, workers, labels, len(item_ids), len(names),
                                                       worker_ids, names, cons, method))
        return {i: (int(cons.labels[k]), 0.0 if single else float(cons.confidence[k]))
                for i, k in item_pos.items()}

    def finalize(self, job_arn: str) -> None:
        """Consolidate every human-labelled object, write the consolidation response, the output
        manifest and the label-quality report, and end the job (Completed, or Stopped)."""
        if not self._claim(job_arn, ("human",), "finalizing"):
            return
        job = self.job(job_arn)
        cfg = self.config(job)
        try:
            report = self._write_outputs(job, cfg)
        except Exception as exc:  # the job fails, with the reason in FailureReason (as on AWS)
            logger.exception("labeling job %s failed while writing its output", job["name"])
            self.fail(job_arn, exc)
            return
        final = "Stopped" if job["status"] == "Stopping" else "Completed"
        cfg["quality"] = report
        with self.store.transaction() as db:
            db.execute("UPDATE jobs SET status=?, modified=?, stage='done', config=? WHERE arn=?",
                       (final, time.time(), dumps(cfg), job_arn))

    def _write_outputs(self, job, cfg: dict) -> dict:
        task = TASK_TYPES[cfg["task_type"]]
        names = cfg["labels"]
        created = manifest.creation_date(time.time())
        name = job["name"]
        report: dict = {"labelingJobName": name, "taskType": cfg["task_type"],
                        "workersPerObject": cfg["workers_per_object"]}
        results: dict[int, tuple[Any, dict]] = {}
        single = cfg["workers_per_object"] == 1
        if task.kind == "classification":
            for idx, (cls, conf) in self._classification_labels(job, cfg, report).items():
                results[idx] = ans.classification_output(task, names, cls, conf, name, created)
        else:
            per_item: dict[int, list] = {}
            for r in self._submitted(job["arn"]):
                per_item.setdefault(r["idx"], []).append(ans.normalise(task, r["answer"], names))
            for idx, values in per_item.items():
                if task.kind == "multilabel":
                    chosen, conf = consolidation.multilabel_vote(values)
                    if single:
                        conf = {c: 0.0 for c in chosen}
                    results[idx] = ans.multilabel_output(task, names, chosen, conf, name, created)
                elif task.kind == "boundingbox":
                    boxes = consolidation.cluster_boxes([v["boxes"] for v in values])
                    image = next((v["image"] for v in values if v["image"]), {})
                    results[idx] = ans.box_output(task, names, boxes, image, name, created)
                else:
                    spans = consolidation.vote_spans(values)
                    results[idx] = ans.ner_output(task, cfg["label_config"], spans, name, created)
            report["consolidation"] = {"multilabel": "union", "boundingbox": "iou-clustering",
                                       "ner": "span-vote"}[task.kind]
        now = time.time()
        attr = cfg["attribute"]
        entries = [(idx, {attr: label, f"{attr}-metadata": meta}) for idx, (label, meta) in sorted(results.items())]
        if entries:
            self._put(job["region"], manifest.consolidation_uri(cfg["output_path"], name, now),
                      json.dumps(manifest.consolidation_response(entries)).encode())
        rows = self.store.query("SELECT idx, state, data, label, metadata FROM items WHERE job_arn=? ORDER BY idx",
                                (job["arn"],))
        lines = []
        with self.store.transaction() as db:
            for r in rows:
                data = json.loads(r["data"])
                if r["idx"] in results:
                    label, meta = results[r["idx"]]
                    db.execute("UPDATE items SET label=?, metadata=? WHERE job_arn=? AND idx=?",
                               (dumps(label), dumps(meta), job["arn"], r["idx"]))
                elif r["state"] == MACHINE:
                    label, meta = json.loads(r["label"]), json.loads(r["metadata"])
                else:
                    label, meta = None, None
                lines.append(manifest.augmented_line(data, attr, label, meta))
        self._put(job["region"], manifest.output_manifest_uri(cfg["output_path"], name),
                  ("\n".join(lines) + "\n").encode())
        report["counters"] = self.counters(job["arn"])
        if cfg.get("automated"):
            report["automatedLabeling"] = cfg["automated"].get("rounds", [])
        self._put(job["region"], manifest.quality_report_uri(cfg["output_path"], name),
                  json.dumps(report, indent=2).encode())
        return report

    def fail(self, job_arn: str, exc: BaseException) -> None:
        """End a job as Failed, with the error as its FailureReason."""
        reason = f"{type(exc).__name__}: {exc}"[:1024]
        with self.store.transaction() as db:
            db.execute("UPDATE jobs SET status='Failed', failure_reason=?, modified=?, stage='done' WHERE arn=? "
                       "AND status NOT IN ('Completed','Failed','Stopped')", (reason, time.time(), job_arn))

    # -- S3 --------------------------------------------------------------------------------
    def _put(self, region: str, uri: str, body: bytes) -> None:
        bucket, key = manifest.split_s3_uri(uri)
        self.s3_for(region).put_object(Bucket=bucket, Key=key, Body=body)


def sample_initial(n_items: int, size: int, seed: int) -> set[int]:
    """The objects people label first when automated labelling is on (a seeded random sample)."""
    return set(random.Random(seed).sample(range(n_items), size))


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
