"""Scoring as the BlazingText hosting container does it, on the ``fasttext`` module.

A BlazingText model directory holds ``model.bin`` (text classification, ``mode=supervised``)
or ``vectors.bin`` (Word2Vec); both are fastText binaries, and a model trained by fastText
itself is served the same way. Requests, as AWS documents them:

* ``application/json``: ``{"instances": ["sentence one", ...], "configuration": {"k": 2}}``
  (``configuration`` optional, ``k`` 1 by default) answers, for a classifier,
  ``[{"label": ["__label__1", ...], "prob": [0.9, ...]}, ...]`` (the top ``k`` labels of
  each sentence, most probable first) and, for word vectors, ``[{"vector": [...], "word":
  "w"}, ...]`` (zeros for a word out of the vocabulary unless the model learned subwords);
* ``application/jsonlines`` (batch transform): a ``{"source": "...", "k": 2}`` object a
  line, answered with one JSON object a line.

The response has the request's content type: BlazingText ignores an ``Accept`` that differs.
A bad body is a :class:`ScoringError` with a 4XX status.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

JSON = "application/json"
JSONLINES = "application/jsonlines"
JSONLINES_ALIASES = (JSONLINES, "application/jsonl", "application/x-jsonlines")
MODEL_FILES = ("model.bin", "vectors.bin")


@dataclass
class BlazingTextModel:
    """A loaded fastText binary and whether it classifies (supervised) or embeds words."""

    model: Any
    supervised: bool
    path: str


def model_file(model_dir: Path) -> Path | None:
    """The BlazingText binary of a model directory, if it has one."""
    for name in MODEL_FILES:
        if (Path(model_dir) / name).is_file():
            return Path(model_dir) / name
    return None


def load(model_dir: Path) -> BlazingTextModel:
    """Load ``model.bin`` (or ``vectors.bin``) of ``model_dir``."""
    import fasttext
    from fasttext.FastText import model_name

    path = model_file(model_dir)
    if path is None:
        raise FileNotFoundError(f"no {' or '.join(MODEL_FILES)} in {model_dir}")
    model = fasttext.load_model(str(path))
    supervised = model.f.getArgs().model == model_name.supervised
    return BlazingTextModel(model=model, supervised=supervised, path=str(path))


def _error(status: int, message: str):
    from .handlers import ScoringError
    return ScoringError(status, message)


def _media_type(value: str | None) -> str:
    return (value or "").split(";")[0].strip().lower()


def _k(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str, float)):
        raise _error(400, f"{where}: k must be a positive integer, got {value!r}")
    try:
        k = int(value)
    except (TypeError, ValueError):
        raise _error(400, f"{where}: k must be a positive integer, got {value!r}") from None
    if k != float(value) or k < 1:
        raise _error(400, f"{where}: k must be a positive integer, got {value!r}")
    return k


def _text(value, where: str) -> str:
    if not isinstance(value, str):
        raise _error(400, f"{where} must be a string, got {type(value).__name__}: {value!r:.80}")
    return " ".join(value.split())   # fastText predicts one line: newlines become spaces


def _classify(model: BlazingTextModel, texts: list[str], ks: list[int]) -> list[dict]:
    groups: dict[int, list[int]] = {}
    for i, k in enumerate(ks):
        groups.setdefault(k, []).append(i)
    results: list[dict | None] = [None] * len(texts)
    for k, idx in groups.items():
        labels, probs = model.model.predict([texts[i] for i in idx], k=k)
        for i, lab, prob in zip(idx, labels, probs):
            results[i] = {"label": list(lab),
                          "prob": [min(1.0, max(0.0, float(p))) for p in prob]}
    return results


def _vectors(model: BlazingTextModel, words: list[str]) -> list[dict]:
    return [{"vector": [float(x) for x in model.model.get_word_vector(w)], "word": w} for w in words]


def _predict(model: BlazingTextModel, texts: list[str], ks: list[int]) -> list[dict]:
    try:
        if model.supervised:
            return _classify(model, texts, ks)
        return _vectors(model, texts)
    except Exception as exc:  # the model failed on a well-formed request: a server error
        raise _error(500, f"prediction failed: {type(exc).__name__}: {exc}") from exc


def invocations(body: bytes, content_type: str | None, accept: str | None,
                model: BlazingTextModel) -> tuple[bytes, str]:
    """Score one request: ``(response body, content type)`` or a 4XX ``ScoringError``."""
    ctype = _media_type(content_type) or JSON
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _error(400, f"The request body is not UTF-8 {ctype}: {exc}") from None
    if ctype == JSON:
        try:
            obj = json.loads(text)
        except ValueError as exc:
            raise _error(400, f"Unable to parse the request body as JSON: {exc}") from None
        if not isinstance(obj, dict) or "instances" not in obj:
            raise _error(400, 'The JSON request must be an object with an "instances" list, as in '
                              '{"instances": ["the movie was excellent"], "configuration": {"k": 2}}')
        instances = obj["instances"]
        if not isinstance(instances, list) or not instances:
            raise _error(400, '"instances" must be a non-empty list of strings')
        config = obj.get("configuration") or {}
        if not isinstance(config, dict):
            raise _error(400, '"configuration" must be an object such as {"k": 2}')
        k = _k(config["k"], "configuration") if "k" in config else 1
        texts = [_text(v, f"instances[{i}]") for i, v in enumerate(instances)]
        result = _predict(model, texts, [k] * len(texts))
        return json.dumps(result).encode(), JSON
    if ctype in JSONLINES_ALIASES:
        texts, ks = [], []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError as exc:
                raise _error(400, f"Line {n} of the jsonlines body is not JSON: {exc}") from None
            if not isinstance(rec, dict) or "source" not in rec:
                raise _error(400, f'Line {n} of the jsonlines body needs a "source" member, as in '
                                  f'{{"source": "the movie was excellent", "k": 2}}')
            texts.append(_text(rec["source"], f"line {n} source"))
            ks.append(_k(rec["k"], f"line {n}") if "k" in rec else 1)
        if not texts:
            raise _error(400, "The jsonlines request body is empty")
        result = _predict(model, texts, ks)
        return ("\n".join(json.dumps(r) for r in result) + "\n").encode(), JSONLINES
    raise _error(415, f"Content type {content_type or '(none)'} is not supported by the BlazingText "
                      f"model server: use {JSON} or {JSONLINES}")
