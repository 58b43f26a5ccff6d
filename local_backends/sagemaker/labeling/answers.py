"""Reading workers' answers (``answerContent``, as the crowd elements submit them) and turning
consolidated labels into the label and ``-metadata`` Ground Truth writes for each task type."""
from __future__ import annotations

from typing import Any

from .tasks import TaskType


class AnswerError(ValueError):
    """An answer that does not fit the task (unknown label, missing boxes, ...)."""


def _find(answer: Any, key: str):
    """The first value of ``key`` in the answer's element objects (``{"<element name>": {key: ...}}``)."""
    if isinstance(answer, dict):
        if key in answer:
            return answer[key]
        for value in answer.values():
            found = _find(value, key)
            if found is not None:
                return found
    return None


def label_names(config: dict) -> list[str]:
    return [x["label"] for x in config["labels"]]


def normalise(task: TaskType, answer: dict, labels: list[str]) -> Any:
    """The part of an answer consolidation needs: a class index, a list of class indices,
    ``{"boxes": [...], "image": {...}}`` or a list of entities."""
    if not isinstance(answer, dict):
        raise AnswerError("The answer must be a JSON object (the crowd-form's answerContent).")
    index = {name: i for i, name in enumerate(labels)}
    if task.kind == "classification":
        label = _find(answer, "label")
        if label not in index:
            raise AnswerError(f"The answer's label {label!r} is not one of the job's labels {labels}.")
        return index[label]
    if task.kind == "multilabel":
        chosen = _find(answer, "labels")
        if not isinstance(chosen, list) or any(c not in index for c in chosen):
            raise AnswerError(f"The answer's labels {chosen!r} must be a list of the job's labels {labels}.")
        return sorted({index[c] for c in chosen})
    if task.kind == "boundingbox":
        boxes = _find(answer, "boundingBoxes")
        if not isinstance(boxes, list):
            raise AnswerError("The answer has no boundingBoxes list.")
        out = []
        for b in boxes:
            if not isinstance(b, dict) or b.get("label") not in index:
                raise AnswerError(f"Each bounding box needs a label among {labels}.")
            try:
                out.append({"class_id": index[b["label"]], **{k: int(round(float(b[k])))
                            for k in ("left", "top", "width", "height")}})
            except (KeyError, TypeError, ValueError):
                raise AnswerError("Each bounding box needs numeric left, top, width and height.") from None
        image = _find(answer, "inputImageProperties") or {}
        return {"boxes": out, "image": image}
    if task.kind == "ner":
        entities = _find(answer, "entities")
        if not isinstance(entities, list):
            raise AnswerError("The answer has no entities list.")
        out = []
        for e in entities:
            if not isinstance(e, dict) or e.get("label") not in index:
                raise AnswerError(f"Each entity needs a label among {labels}.")
            try:
                start, end = int(e["startOffset"]), int(e["endOffset"])
            except (KeyError, TypeError, ValueError):
                raise AnswerError("Each entity needs integer startOffset and endOffset.") from None
            if not 0 <= start < end:
                raise AnswerError("An entity's startOffset must be below its endOffset.")
            out.append({"label": e["label"], "startOffset": start, "endOffset": end})
        return out
    raise AnswerError(f"unsupported task kind {task.kind}")  # pragma: no cover


def answer_for(task: TaskType, value: Any, labels: list[str], image: dict | None = None) -> dict:
    """The ``answerContent`` the default template's element would submit for a normalised value
    (used by programmatic workers, whose rules speak in label names)."""
    if task.kind == "classification":
        return {task.element: {"label": value}}
    if task.kind == "multilabel":
        return {task.element: {"labels": list(value)}}
    if task.kind == "boundingbox":
        return {"boundingBox": {"boundingBoxes": list(value),
                                "inputImageProperties": image or {"width": 0, "height": 0}}}
    return {task.element: {"entities": list(value)}}


def _meta(task: TaskType, job_name: str, created: str, human: bool, **extra) -> dict:
    meta = dict(extra)
    meta.update({"type": task.output_type, "job-name": f"labeling-job/{job_name}",
                 "human-annotated": "yes" if human else "no", "creation-date": created})
    return meta


def classification_output(task: TaskType, labels: list[str], cls: int, confidence: float,
                          job_name: str, created: str, human: bool = True) -> tuple[Any, dict]:
    return cls, _meta(task, job_name, created, human, **{"class-name": labels[cls],
                                                          "confidence": round(float(confidence), 2)})


def multilabel_output(task: TaskType, labels: list[str], chosen: list[int], confidences: dict[int, float],
                      job_name: str, created: str, human: bool = True) -> tuple[Any, dict]:
    meta = {"job-name": f"labeling-job/{job_name}",
            "class-map": {str(c): labels[c] for c in chosen},
            "human-annotated": "yes" if human else "no", "creation-date": created,
            "confidence-map": {str(c): round(float(confidences[c]), 2) for c in chosen},
            "type": task.output_type}
    return list(chosen), meta


def box_output(task: TaskType, labels: list[str], boxes: list[tuple[dict, float]], image: dict,
               job_name: str, created: str, human: bool = True) -> tuple[Any, dict]:
    size = {"width": int(image.get("width") or 0), "height": int(image.get("height") or 0),
            "depth": int(image.get("depth") or 3)}
    label = {"image_size": [size],
             "annotations": [{"class_id": b["class_id"], "left": b["left"], "top": b["top"],
                              "width": b["width"], "height": b["height"]} for b, _ in boxes]}
    used = sorted({b["class_id"] for b, _ in boxes})
    meta = {"objects": [{"confidence": c} for _, c in boxes],
            "class-map": {str(c): labels[c] for c in used}}
    return label, _meta(task, job_name, created, human, **meta)


def ner_output(task: TaskType, config: dict, entities: list[tuple[dict, float]], job_name: str,
               created: str, human: bool = True) -> tuple[Any, dict]:
    label_objs = [{k: v for k, v in x.items() if k in ("label", "shortDisplayName")} for x in config["labels"]]
    label = {"annotations": {"labels": label_objs, "entities": [e for e, _ in entities]}}
    meta = {"job-name": f"labeling-job/{job_name}", "type": task.output_type, "creation-date": created,
            "human-annotated": "yes" if human else "no",
            "entities": [{"confidence": c} for _, c in entities]}
    return label, meta
