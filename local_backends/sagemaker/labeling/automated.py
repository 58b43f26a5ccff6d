"""Automated data labelling (``LabelingJobAlgorithmsConfig``), as Ground Truth does it:

1. people label a first random sample of the data objects;
2. once enough further objects are human-labelled (:data:`MIN_TRAINING`), a model is trained on
   the consolidated human labels (scikit-learn: TF-IDF + logistic
   regression for text; logistic regression on down-sampled pixels for images), and its
   confidence threshold is chosen on the first random sample (held out as the validation set)
   so that the labels it would give reach the target accuracy (95 %, AWS's documented aim);
3. the objects it labels with a confidence above the threshold are machine-labelled
   (``human-annotated: "no"``); of the rest, the least confident batch goes to people, and the
   loop repeats until every object is labelled.
"""
from __future__ import annotations

import io
import math
import pickle
import struct
import zlib
from dataclasses import dataclass

import numpy as np

TARGET_ACCURACY = 0.95       # AWS's documented aim for machine labels
INITIAL_FRACTION = 0.2      # share of the data objects people label first
TUNING_TAG = "aws-ml:automated-labeling"   # e.g. "target=0.85,initial=0.3" (local only)
MIN_INITIAL = 10
MIN_TRAINING = 40           # human labels (besides the validation set) before the model may label
IMAGE_SIDE = 16             # images are averaged down to IMAGE_SIDE x IMAGE_SIDE grey pixels


def initial_batch(n_items: int, fraction: float = INITIAL_FRACTION) -> int:
    return min(n_items, max(MIN_INITIAL, math.ceil(n_items * fraction)))


def parse_tuning_tag(value: str) -> dict:
    """``target=0.85,initial=0.3`` -> {"target": 0.85, "initial": 0.3}; ValueError if malformed."""
    out = {"target": TARGET_ACCURACY, "initial": INITIAL_FRACTION}
    for part in filter(None, (p.strip() for p in value.split(","))):
        key, sep, val = part.partition("=")
        if not sep or key not in out:
            raise ValueError(f"{part!r} is not one of target=, initial=")
        out[key] = float(val)
        if not 0 < out[key] <= 1:
            raise ValueError(f"{key} must be in (0, 1]")
    return out


# -- PNG decoding (8-bit grey / RGB / RGBA / grey+alpha, non-interlaced) ----------------------
def decode_png(data: bytes) -> np.ndarray:
    """A PNG as an (height, width) float array of grey levels in [0, 1]."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(color)
    if depth != 8 or channels is None or interlace:
        raise ValueError("only 8-bit, non-interlaced grey/RGB(A) PNG files are decoded")
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    out = np.zeros((height, stride), dtype=np.int32)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=y * (stride + 1) + 1).astype(np.int32)
        if f == 0:
            cur = line
        elif f == 2:
            cur = (line + prev) & 255
        else:
            cur = np.zeros(stride, dtype=np.int32)
            for x in range(stride):
                a = cur[x - channels] if x >= channels else 0
                b = prev[x]
                c = prev[x - channels] if x >= channels else 0
                if f == 1:
                    pred = a
                elif f == 3:
                    pred = (a + b) // 2
                else:  # Paeth
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                cur[x] = (line[x] + pred) & 255
        out[y] = cur
        prev = cur
    pixels = out.reshape(height, width, channels)[:, :, :min(channels, 3)].astype(float)
    return pixels.mean(axis=2) / 255.0


def encode_png(pixels: np.ndarray) -> bytes:
    """An (h, w) or (h, w, 3) uint8 array as a PNG file (no Pillow needed)."""
    pixels = np.asarray(pixels, dtype=np.uint8)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    h, w, _ = pixels.shape
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(h))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def image_features(data: bytes) -> np.ndarray:
    grey = decode_png(data)
    h, w = grey.shape
    ys = np.linspace(0, h, IMAGE_SIDE + 1).astype(int)
    xs = np.linspace(0, w, IMAGE_SIDE + 1).astype(int)
    return np.array([[grey[ys[i]:max(ys[i + 1], ys[i] + 1), xs[j]:max(xs[j + 1], xs[j] + 1)].mean()
                      for j in range(IMAGE_SIDE)] for i in range(IMAGE_SIDE)]).ravel()


# -- the model ----------------------------------------------------------------------------------
@dataclass
class AutoLabels:
    """What one round of automated labelling decided."""

    threshold: float
    machine: dict[int, tuple[int, float]]     # item -> (class, confidence), above the threshold
    uncertain: list[int]                      # the other items, least confident first
    model: object
    validation_accuracy: float | None


def make_model(media: str):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    if media == "text":
        return make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
                             LogisticRegression(max_iter=2000, C=10.0))
    return LogisticRegression(max_iter=2000, C=1.0)


def choose_threshold(proba: np.ndarray, truth: np.ndarray, target: float = TARGET_ACCURACY,
                     min_support: int = 10) -> tuple[float, float | None]:
    """The lowest confidence above which cross-validated predictions reach ``target`` accuracy
    (over at least ``min_support`` and 10 % of the validation objects, so that a handful of
    lucky predictions does not set it); 1.01 (label nothing) if none does."""
    min_support = max(min_support, math.ceil(0.1 * len(truth)))
    conf = proba.max(axis=1)
    correct = proba.argmax(axis=1) == truth
    order = np.argsort(-conf)
    hits = np.cumsum(correct[order])
    n = np.arange(1, len(order) + 1)
    acc = hits / n
    best, best_acc = 1.01, None
    for k in range(len(order) - 1, min_support - 2, -1):   # the largest set that reaches the target
        if acc[k] >= target:
            best, best_acc = float(conf[order[k]]), float(acc[k])
            break
    return best, best_acc


def auto_label(media: str, features_of, labelled: dict[int, int], candidates: list[int],
               n_classes: int, target: float = TARGET_ACCURACY, validation: list[int] = ()) -> AutoLabels:
    """Train on the human labels ``labelled`` (item -> class) except the ``validation`` objects
    (the random first sample people labelled, as AWS keeps a validation set), choose the
    confidence threshold on them, and label ``candidates``."""
    held = [i for i in validation if i in labelled]
    held_set = set(held)
    train = sorted(i for i in labelled if i not in held_set)
    y = np.array([labelled[i] for i in train])
    if len(train) < MIN_TRAINING or len(held) < MIN_INITIAL or len(np.unique(y)) < 2:
        return AutoLabels(1.01, {}, list(candidates), None, None)
    model = make_model(media)
    model.fit(features_of(train), y)
    proba = model.predict_proba(features_of(held))
    truth = np.searchsorted(model.classes_, [labelled[i] for i in held])
    known = np.isin([labelled[i] for i in held], model.classes_)
    threshold, val_acc = choose_threshold(proba[known], truth[known], target)
    machine: dict[int, tuple[int, float]] = {}
    scored: list[tuple[float, int]] = []
    if candidates:
        for item, p in zip(candidates, model.predict_proba(features_of(candidates))):
            k = int(p.argmax())
            if p[k] >= threshold:
                machine[item] = (int(model.classes_[k]), float(p[k]))
            else:
                scored.append((float(p[k]), item))
    scored.sort()
    return AutoLabels(threshold, machine, [i for _, i in scored], model, val_acc)


def model_bytes(model) -> bytes:
    buf = io.BytesIO()
    pickle.dump(model, buf)
    return buf.getvalue()
