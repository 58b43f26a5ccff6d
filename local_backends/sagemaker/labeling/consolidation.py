"""Annotation consolidation: several workers' answers -> one label and a confidence.

* classification: :func:`majority_vote` and :func:`dawid_skene` (expectation-maximisation
  over per-worker confusion matrices; Ground Truth's ``ACS-*MultiClass`` functions use "a
  variant of the Expectation Maximization approach"), vectorised with numpy;
* multi-label classification: :func:`multilabel_vote` (every label chosen by at least one
  worker, as AWS documents, with the share of workers who chose it as its confidence);
* bounding boxes: :func:`cluster_boxes` (boxes of the same class matched across workers by
  IoU, averaged);
* entities: :func:`vote_spans` (spans kept when a majority of workers marked them);
* agreement: :func:`fleiss_kappa`, :func:`krippendorff_alpha` and :func:`cohens_kappa`, and
  per-worker accuracy estimates, gathered by :func:`quality_report`.

With a single worker per object the confidence is 0.00, as on AWS.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class ClassConsensus:
    """Consolidated classification labels: one class index and a confidence per item."""

    labels: np.ndarray         # (n_items,) int
    confidence: np.ndarray     # (n_items,) float in [0, 1]
    posterior: np.ndarray      # (n_items, n_classes)
    worker_accuracy: np.ndarray | None = None   # (n_workers,) estimated
    confusion: np.ndarray | None = None         # (n_workers, n_classes, n_classes)
    iterations: int = 0


def _as_arrays(items, workers, labels):
    return (np.asarray(items, dtype=np.int64), np.asarray(workers, dtype=np.int64),
            np.asarray(labels, dtype=np.int64))


def vote_counts(items, labels, n_items: int, n_classes: int) -> np.ndarray:
    """(n_items, n_classes) number of judgements per class."""
    items, labels = np.asarray(items, dtype=np.int64), np.asarray(labels, dtype=np.int64)
    return np.bincount(items * n_classes + labels, minlength=n_items * n_classes).reshape(
        n_items, n_classes).astype(float)


def majority_vote(items, workers, labels, n_items: int, n_classes: int,
                  seed: int = 0) -> ClassConsensus:
    """Plurality vote per item, ties broken at random (seeded); confidence = vote share."""
    items, workers, labels = _as_arrays(items, workers, labels)
    counts = vote_counts(items, labels, n_items, n_classes)
    rng = np.random.default_rng(seed)
    noisy = counts + rng.random(counts.shape) * 1e-6
    chosen = noisy.argmax(axis=1)
    totals = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        posterior = np.where(totals[:, None] > 0, counts / totals[:, None], 1.0 / n_classes)
    confidence = posterior[np.arange(n_items), chosen]
    n_workers = int(workers.max()) + 1 if workers.size else 0
    agree = chosen[items] == labels
    acc = np.bincount(workers, weights=agree, minlength=n_workers) / np.maximum(
        np.bincount(workers, minlength=n_workers), 1)
    return ClassConsensus(chosen, confidence, posterior, acc)


def dawid_skene(items, workers, labels, n_items: int, n_classes: int, n_workers: int | None = None,
                max_iter: int = 200, tol: float = 1e-7, prior_correct: float = 4.0,
                prior_wrong: float = 1.0, one_coin: bool = False, restarts: int = 4) -> ClassConsensus:
    """Dawid & Skene (1979): estimate each worker's confusion matrix and each item's true
    class by expectation-maximisation.

    The confusion matrices get a Dirichlet prior (``prior_correct`` pseudo-answers on the
    diagonal, ``prior_wrong`` off it: a worker is assumed better than chance until the data
    say otherwise). EM finds local optima, so it starts from the vote shares and from
    ``restarts`` more points (each trusting one of the most active workers more) and keeps
    the solution of highest likelihood. ``one_coin`` ties each worker's matrix to a single
    accuracy (errors spread evenly): fewer parameters, for 2-3 workers per item."""
    items, workers, labels = _as_arrays(items, workers, labels)
    if n_workers is None:
        n_workers = int(workers.max()) + 1 if workers.size else 0
    if n_items == 0 or n_workers == 0:
        empty = np.zeros((n_items, n_classes))
        return ClassConsensus(np.zeros(n_items, dtype=np.int64), np.zeros(n_items), empty,
                              np.zeros(n_workers), np.zeros((n_workers, n_classes, n_classes)), 0)
    starts = [np.ones(n_workers)]
    active = np.argsort(-np.bincount(workers, minlength=n_workers))[:restarts]
    for w in active:
        weight = np.ones(n_workers)
        weight[w] = n_workers + 1.0
        starts.append(weight)
    best = None
    for weight in starts:
        counts = np.bincount(items * n_classes + labels, weights=weight[workers],
                             minlength=n_items * n_classes).reshape(n_items, n_classes)
        T = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1e-12)
        T[counts.sum(axis=1) == 0] = 1.0 / n_classes
        result = _em(T, items, workers, labels, n_items, n_classes, n_workers, max_iter, tol,
                     prior_correct, prior_wrong, one_coin)
        if best is None or result[-1] > best[-1] + 1e-9:
            best = result
    T, pi, it, _ = best
    chosen = T.argmax(axis=1)
    confidence = T[np.arange(n_items), chosen]
    prior = T.mean(axis=0)
    accuracy = np.einsum("wkk->wk", pi) @ prior
    return ClassConsensus(chosen, confidence, T, accuracy, pi, it)


def _em(T, items, workers, labels, n_items, n_classes, n_workers, max_iter, tol,
        prior_correct, prior_wrong, one_coin):
    """EM from the item posteriors ``T``; sums over judgements use ``np.bincount`` (one pass
    per class), which is an order of magnitude faster than ``np.add.at``."""
    diag = np.arange(n_classes)
    cell = workers * n_classes + labels                 # (worker, given label) of each judgement
    it = 0
    loglik = -np.inf
    for it in range(1, max_iter + 1):
        # M-step: class priors and confusion matrices pi[w, true, given]
        prior = T.mean(axis=0) + 1e-12
        prior /= prior.sum()
        pi = np.full((n_workers, n_classes, n_classes), prior_wrong)
        pi[:, diag, diag] = prior_correct
        Ti = T[items]
        for k in range(n_classes):
            pi[:, k, :] += np.bincount(cell, weights=Ti[:, k],
                                       minlength=n_workers * n_classes).reshape(n_workers, n_classes)
        if one_coin:
            acc = np.einsum("wkk->w", pi) / pi.sum(axis=(1, 2))
            pi = np.broadcast_to(((1 - acc) / max(n_classes - 1, 1))[:, None, None],
                                 (n_workers, n_classes, n_classes)).copy()
            pi[:, diag, diag] = acc[:, None]
        pi /= pi.sum(axis=2, keepdims=True)
        # E-step: log posterior of each item's class
        log_pi = np.log(pi)
        log_t = np.empty((n_items, n_classes))
        for k in range(n_classes):
            log_t[:, k] = np.log(prior[k]) + np.bincount(items, weights=log_pi[workers, k, labels],
                                                         minlength=n_items)
        top = log_t.max(axis=1, keepdims=True)
        new_t = np.exp(log_t - top)
        norm = new_t.sum(axis=1, keepdims=True)
        loglik = float((np.log(norm) + top).sum())
        new_t /= norm
        delta = np.abs(new_t - T).max()
        T = new_t
        if delta < tol:
            break
    return T, pi, it, loglik


def multilabel_vote(selections: list[list[int]]) -> tuple[list[int], dict[int, float]]:
    """Every label chosen by at least one worker, and the share of workers who chose it."""
    n = len(selections)
    counts: dict[int, int] = {}
    for chosen in selections:
        for c in set(chosen):
            counts[c] = counts.get(c, 0) + 1
    ordered = sorted(counts, key=lambda c: (-counts[c], c))
    return ordered, {c: counts[c] / n for c in ordered}


# -- bounding boxes --------------------------------------------------------------------------
def iou(a: dict, b: dict) -> float:
    """Intersection over union of two boxes given as left/top/width/height."""
    ax2, ay2 = a["left"] + a["width"], a["top"] + a["height"]
    bx2, by2 = b["left"] + b["width"], b["top"] + b["height"]
    iw = max(0.0, min(ax2, bx2) - max(a["left"], b["left"]))
    ih = max(0.0, min(ay2, by2) - max(a["top"], b["top"]))
    inter = iw * ih
    union = a["width"] * a["height"] + b["width"] * b["height"] - inter
    return inter / union if union > 0 else 0.0


def cluster_boxes(per_worker: list[list[dict]], threshold: float = 0.5) -> list[tuple[dict, float]]:
    """Match boxes of the same class across workers (each worker gives at most one box per
    cluster, joined greedily by IoU with the cluster's mean), keep the clusters a majority of
    workers drew, and return each cluster's mean box with a confidence (share of workers ×
    mean IoU with the mean box). One worker: every box, confidence 0."""
    n = len(per_worker)
    if n == 1:
        return [(dict(b), 0.0) for b in per_worker[0]]
    clusters: list[dict] = []   # {"class_id", "members": {worker: box}, "mean": box}
    for w, boxes in enumerate(per_worker):
        for box in sorted(boxes, key=lambda b: -(b["width"] * b["height"])):
            best, best_iou = None, threshold
            for c in clusters:
                if c["class_id"] != box["class_id"] or w in c["members"]:
                    continue
                score = iou(c["mean"], box)
                if score >= best_iou:
                    best, best_iou = c, score
            if best is None:
                best = {"class_id": box["class_id"], "members": {}}
                clusters.append(best)
            best["members"][w] = box
            members = list(best["members"].values())
            best["mean"] = {k: sum(m[k] for m in members) / len(members)
                            for k in ("left", "top", "width", "height")}
    out = []
    for c in clusters:
        support = len(c["members"])
        if support * 2 < n:   # drawn by fewer than half of the workers
            continue
        mean = {"class_id": c["class_id"], **{k: int(round(v)) for k, v in c["mean"].items()}}
        mean_iou = sum(iou(mean, m) for m in c["members"].values()) / support
        out.append((mean, round(support / n * mean_iou, 2)))
    out.sort(key=lambda bc: (bc[0]["top"], bc[0]["left"]))
    return out


# -- entity spans ----------------------------------------------------------------------------
def vote_spans(per_worker: list[list[dict]]) -> list[tuple[dict, float]]:
    """Spans (label, startOffset, endOffset) marked by at least half of the workers; of
    overlapping winners the one with more votes (then the longer) is kept. One worker: every
    span, confidence 0."""
    n = len(per_worker)
    if n == 1:
        return [({"label": e["label"], "startOffset": e["startOffset"], "endOffset": e["endOffset"]}, 0.0)
                for e in sorted(per_worker[0], key=lambda e: e["startOffset"])]
    votes: dict[tuple, int] = {}
    for entities in per_worker:
        for key in {(e["label"], int(e["startOffset"]), int(e["endOffset"])) for e in entities}:
            votes[key] = votes.get(key, 0) + 1
    kept: list[tuple] = []
    for key in sorted(votes, key=lambda k: (-votes[k], -(k[2] - k[1]), k[1])):
        if votes[key] * 2 < n:
            continue
        if any(not (key[2] <= k[1] or key[1] >= k[2]) for k in kept):
            continue
        kept.append(key)
    kept.sort(key=lambda k: k[1])
    return [({"label": k[0], "startOffset": k[1], "endOffset": k[2]}, round(votes[k] / n, 2)) for k in kept]


# -- agreement -------------------------------------------------------------------------------
def fleiss_kappa(counts: np.ndarray) -> float | None:
    """Fleiss' kappa over items rated by the same number (≥ 2) of raters; ``counts`` is
    (n_items, n_classes). Items with another number of ratings are left out."""
    counts = np.asarray(counts, dtype=float)
    if counts.size == 0:
        return None
    per_item = counts.sum(axis=1)
    n = np.bincount(per_item.astype(int)).argmax()
    counts = counts[per_item == n]
    if n < 2 or len(counts) == 0:
        return None
    p_j = counts.sum(axis=0) / (len(counts) * n)
    p_i = ((counts * (counts - 1)).sum(axis=1)) / (n * (n - 1))
    p_bar, p_e = p_i.mean(), (p_j ** 2).sum()
    return float((p_bar - p_e) / (1 - p_e)) if p_e < 1 else 1.0


def krippendorff_alpha(counts: np.ndarray) -> float | None:
    """Krippendorff's alpha for nominal data from (n_items, n_classes) counts (any number of
    raters per item; items with fewer than two ratings do not count)."""
    counts = np.asarray(counts, dtype=float)
    m = counts.sum(axis=1)
    counts = counts[m >= 2]
    m = m[m >= 2]
    if len(counts) == 0:
        return None
    # coincidence matrix o[c, k] = sum_u n_uc * (n_uk - [c==k]) / (m_u - 1)
    o = np.einsum("uc,uk->ck", counts / (m - 1)[:, None], counts)
    o -= np.diag((counts / (m - 1)[:, None]).sum(axis=0))
    n_c = o.sum(axis=1)
    n = n_c.sum()
    d_o = n - np.trace(o)
    d_e = (n * n - (n_c ** 2).sum()) / (n - 1)
    return float(1 - d_o / d_e) if d_e > 0 else 1.0


def cohens_kappa(a, b) -> float | None:
    """Cohen's kappa between two raters' labels on the same items (``None`` when undefined:
    fewer than two items, or both raters always give one same label)."""
    a, b = np.asarray(a), np.asarray(b)
    if len(a) < 2:
        return None
    classes, codes = np.unique(np.concatenate([a, b]), return_inverse=True)
    ca, cb = codes[:len(a)], codes[len(a):]
    observed = float((ca == cb).mean())
    expected = float((np.bincount(ca, minlength=len(classes)) / len(a)) @
                     (np.bincount(cb, minlength=len(classes)) / len(b)))
    if math.isclose(expected, 1.0):
        return None
    return (observed - expected) / (1 - expected)


def quality_report(items, workers, labels, n_items: int, n_classes: int, worker_ids: list[str],
                   class_names: list[str], consensus: ClassConsensus, method: str) -> dict:
    """The label-quality report of a classification job (written as JSON next to its output)."""
    items, workers, labels = _as_arrays(items, workers, labels)
    counts = vote_counts(items, labels, n_items, n_classes)
    agree = consensus.labels[items] == labels
    per_worker = []
    for w, wid in enumerate(worker_ids):
        mask = workers == w
        if not mask.any():
            continue
        entry = {"workerId": wid, "judgements": int(mask.sum()),
                 "agreementWithConsensus": round(float(agree[mask].mean()), 4)}
        if consensus.worker_accuracy is not None and w < len(consensus.worker_accuracy):
            entry["estimatedAccuracy"] = round(float(consensus.worker_accuracy[w]), 4)
        per_worker.append(entry)
    pairs = []
    for a in range(len(worker_ids)):
        for b in range(a + 1, len(worker_ids)):
            la = dict(zip(items[workers == a].tolist(), labels[workers == a].tolist()))
            lb = dict(zip(items[workers == b].tolist(), labels[workers == b].tolist()))
            common = sorted(set(la) & set(lb))
            k = cohens_kappa([la[i] for i in common], [lb[i] for i in common]) if common else None
            if k is not None:
                pairs.append({"workers": [worker_ids[a], worker_ids[b]], "items": len(common),
                              "cohensKappa": round(k, 4)})
    fk, ka = fleiss_kappa(counts), krippendorff_alpha(counts)
    return {
        "consolidation": method,
        "items": int(n_items), "judgements": int(len(items)), "classes": class_names,
        "agreement": {"fleissKappa": None if fk is None else round(fk, 4),
                      "krippendorffAlpha": None if ka is None else round(ka, 4),
                      "pairwiseCohensKappa": pairs},
        "workers": per_worker,
        "meanConfidence": round(float(consensus.confidence.mean()), 4) if n_items else None,
    }
