"""Programmatic workers: they take tasks like people do, so a job runs unattended.

* :class:`CallableWorker` — any Python callable ``f(task) -> answer`` (the task has the
  data object, the rendered task input and the job's labels; the answer is a label name, a
  list of names, a list of boxes / entities, or a full ``answerContent`` dict);
* :class:`RuleWorker` — keyword rules for text (``{"great|excellent": "POSITIVE"}``);
* :class:`SimulatedWorker` — an annotator of a given accuracy who knows the true label (a
  manifest attribute) and errs uniformly at random otherwise; a job asks for them with the tag
  ``aws-ml:simulated-workers`` = ``count=3,accuracy=0.7,truth=<attribute>,seed=0``.

:func:`work` runs a set of workers on a job until no task is left for them.
"""
from __future__ import annotations

import random
import re
import time
from typing import Any, Callable

from . import answers as ans
from .tasks import TASK_TYPES

SIMULATED_TAG = "aws-ml:simulated-workers"


class Worker:
    """Base class of programmatic workers."""

    worker_id: str = ""

    def answer(self, task: dict) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def answer_content(self, task: dict) -> dict:
        """The ``answerContent`` for a task: the worker's answer in the crowd elements' form."""
        value = self.answer(task)
        if isinstance(value, dict):
            return value
        t = TASK_TYPES[task["task_type"]]
        return ans.answer_for(t, value, task["labels"], task.get("image"))


class CallableWorker(Worker):
    """A Python callable as a worker."""

    def __init__(self, fn: Callable[[dict], Any], worker_id: str | None = None) -> None:
        self.fn = fn
        self.worker_id = worker_id or f"private.callable-{id(fn):x}"

    def answer(self, task: dict) -> Any:
        return self.fn(task)


class RuleWorker(Worker):
    """Keyword rules for text classification: the first regular expression (case-insensitive)
    found in the text gives the label; else ``default``."""

    def __init__(self, rules: dict[str, str], default: str, worker_id: str | None = None) -> None:
        self.rules = [(re.compile(p, re.IGNORECASE), label) for p, label in rules.items()]
        self.default = default
        self.worker_id = worker_id or "private.rule-worker"

    def answer(self, task: dict) -> Any:
        text = str(task["input"].get("taskObject", ""))
        for rx, label in self.rules:
            if rx.search(text):
                return label
        return self.default


class SimulatedWorker(Worker):
    """An annotator right with probability ``accuracy`` (the truth is the data object's
    ``truth`` attribute), else a uniformly chosen wrong label; seeded."""

    def __init__(self, accuracy: float, truth: str, seed: int = 0, worker_id: str | None = None) -> None:
        if not 0.0 <= accuracy <= 1.0:
            raise ValueError(f"The 'accuracy' parameter of SimulatedWorker must be in [0, 1]. Got {accuracy!r} instead.")
        self.accuracy = accuracy
        self.truth = truth
        self.rng = random.Random(seed)
        self.worker_id = worker_id or f"private.simulated-{seed}"

    def answer(self, task: dict) -> Any:
        t = TASK_TYPES[task["task_type"]]
        if t.kind not in ("classification", "multilabel"):
            raise ValueError(f"simulated workers answer classification tasks, not {task['task_type']}")
        labels = task["labels"]
        true = task["data_object"].get(self.truth)
        if t.kind == "multilabel":
            truth = set(true if isinstance(true, list) else [true])
            return [x for x in labels if (x in truth) == (self.rng.random() < self.accuracy)]
        if true not in labels:
            raise ValueError(f"the data object's {self.truth!r} ({true!r}) is not one of the labels {labels}")
        if self.rng.random() < self.accuracy:
            return true
        return self.rng.choice([x for x in labels if x != true])


def parse_simulated_tag(value: str) -> dict:
    """``count=3,accuracy=0.7,truth=label,seed=0`` -> {"count": 3, ...}; ValueError if malformed."""
    spec: dict[str, Any] = {"count": 3, "accuracy": 0.8, "seed": 0}
    for part in filter(None, (p.strip() for p in value.split(","))):
        key, sep, val = part.partition("=")
        if not sep or key not in ("count", "accuracy", "truth", "seed"):
            raise ValueError(f"{part!r} is not one of count=, accuracy=, truth=, seed=")
        spec[key] = val
    try:
        spec["count"], spec["seed"], spec["accuracy"] = int(spec["count"]), int(spec["seed"]), float(spec["accuracy"])
    except ValueError:
        raise ValueError("count and seed must be integers and accuracy a number") from None
    if "truth" not in spec:
        raise ValueError("truth= (the manifest attribute holding the true label) is required")
    if not 1 <= spec["count"] <= 9 or not 0 <= spec["accuracy"] <= 1:
        raise ValueError("count must be 1 to 9 and accuracy between 0 and 1")
    return spec


def simulated_workers(spec: dict) -> list[SimulatedWorker]:
    return [SimulatedWorker(spec["accuracy"], spec["truth"], seed=spec["seed"] * 1000 + k,
                            worker_id=f"private.simulated-{k}") for k in range(spec["count"])]


def work(engine, job_arn: str, workers: list[Worker], max_tasks: int | None = None, wait: bool = False,
         should_stop: Callable[[], bool] | None = None) -> int:
    """Let ``workers`` take and answer tasks of a job in turn until none is left for them (or
    ``max_tasks`` answers); returns the number of answers submitted. With ``wait``, keep
    polling until the job ends (tasks others hold may come back, automated labelling may open
    more)."""
    done = 0
    idle_rounds = 0
    while True:
        progressed = False
        for w in workers:
            if should_stop is not None and should_stop():
                return done
            task = engine.next_task(w.worker_id, job_arn)
            if task is None:
                continue
            engine.submit(job_arn, task["index"], w.worker_id, w.answer_content(task))
            done += 1
            progressed = True
            if max_tasks is not None and done >= max_tasks:
                return done
        if progressed:
            idle_rounds = 0
            continue
        status = engine.advance(job_arn)      # may open the next batch (automated labelling)
        if status not in ("Initializing", "InProgress"):
            return done
        idle_rounds += 1
        if not wait and idle_rounds > 1:
            return done
        if wait:
            time.sleep(0.05)
