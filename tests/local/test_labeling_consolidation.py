"""Consolidation algorithms and agreement measures of the local Ground Truth."""
from __future__ import annotations

import numpy as np
import pytest

from local_backends.sagemaker.labeling import consolidation as C


def simulate(accuracies, n_items=1000, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_classes, n_items)
    items, workers, labels = [], [], []
    for w, acc in enumerate(accuracies):
        right = rng.random(n_items) < acc
        given = np.where(right, truth, (truth + rng.integers(1, n_classes, n_items)) % n_classes)
        items += range(n_items)
        workers += [w] * n_items
        labels += given.tolist()
    return truth, items, workers, labels


def test_majority_vote_beats_each_worker_when_they_are_alike():
    truth, items, workers, labels = simulate([0.7, 0.7, 0.7, 0.7, 0.7])
    mv = C.majority_vote(items, workers, labels, 1000, 3)
    assert (mv.labels == truth).mean() > 0.85
    assert np.allclose(mv.posterior.sum(axis=1), 1) and (mv.confidence >= 1 / 3).all()


def test_dawid_skene_learns_who_to_trust():
    accuracies = [0.95, 0.6, 0.55, 0.5, 0.45]
    truth, items, workers, labels = simulate(accuracies, seed=1)
    mv = C.majority_vote(items, workers, labels, 1000, 3)
    ds = C.dawid_skene(items, workers, labels, 1000, 3)
    assert (ds.labels == truth).mean() > (mv.labels == truth).mean() + 0.05
    assert (ds.labels == truth).mean() > 0.9
    assert np.abs(ds.worker_accuracy - accuracies).max() < 0.06          # per-worker accuracy estimates
    assert ds.confusion.shape == (5, 3, 3) and np.allclose(ds.confusion.sum(axis=2), 1)


def test_dawid_skene_one_coin_and_missing_answers():
    truth, items, workers, labels = simulate([0.9, 0.8, 0.6], n_classes=2, seed=2)
    keep = np.random.default_rng(0).random(len(items)) < 0.8                # not every worker saw every item
    items, workers, labels = (np.array(x)[keep] for x in (items, workers, labels))
    seen = np.unique(items)
    ds = C.dawid_skene(items, workers, labels, 1000, 2, one_coin=True)
    assert (ds.labels[seen] == truth[seen]).mean() > 0.85
    assert ds.worker_accuracy[0] > ds.worker_accuracy[2]


def test_fleiss_kappa_matches_the_textbook_example():
    # Fleiss (1971) as worked on Wikipedia: 10 subjects, 14 raters, 5 categories -> 0.210
    counts = np.array([[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
                       [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]])
    assert C.fleiss_kappa(counts) == pytest.approx(0.210, abs=0.001)


def test_krippendorff_alpha_and_cohens_kappa():
    perfect = np.array([[3, 0], [0, 3], [3, 0]])
    assert C.krippendorff_alpha(perfect) == pytest.approx(1.0)
    # 2 coders, 10 units, 4 disagreements: alpha = 1 - 19 * 4 / (14 * 6)
    a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    counts = np.zeros((10, 2))
    for i, (x, y) in enumerate(zip(a, b)):
        counts[i, x] += 1
        counts[i, y] += 1
    assert C.krippendorff_alpha(counts) == pytest.approx(0.095, abs=0.001)
    assert C.cohens_kappa(a, b) == pytest.approx(1 / 11)                # (0.6 - 0.56) / (1 - 0.56)


def test_boxes_cluster_by_iou():
    w1 = [{"class_id": 0, "left": 10, "top": 10, "width": 50, "height": 40},
          {"class_id": 1, "left": 100, "top": 100, "width": 20, "height": 20}]
    w2 = [{"class_id": 0, "left": 12, "top": 8, "width": 50, "height": 44}]
    w3 = [{"class_id": 0, "left": 8, "top": 12, "width": 52, "height": 38},
          {"class_id": 0, "left": 200, "top": 10, "width": 10, "height": 10}]
    boxes = C.cluster_boxes([w1, w2, w3])
    assert len(boxes) == 1                                               # the lone boxes are dropped
    box, conf = boxes[0]
    assert box == {"class_id": 0, "left": 10, "top": 10, "width": 51, "height": 41}
    assert 0.8 < conf <= 1.0
    assert [c for _, c in C.cluster_boxes([w1])] == [0.0, 0.0]          # one worker: confidence 0


def test_spans_by_vote():
    w1 = [{"label": "PER", "startOffset": 0, "endOffset": 6}, {"label": "ORG", "startOffset": 15, "endOffset": 21}]
    w2 = [{"label": "PER", "startOffset": 0, "endOffset": 6}]
    w3 = [{"label": "PER", "startOffset": 0, "endOffset": 4}, {"label": "ORG", "startOffset": 15, "endOffset": 21}]
    assert C.vote_spans([w1, w2, w3]) == [({"label": "PER", "startOffset": 0, "endOffset": 6}, 0.67),
                                          ({"label": "ORG", "startOffset": 15, "endOffset": 21}, 0.67)]


def test_multilabel_vote_keeps_every_chosen_label():
    chosen, conf = C.multilabel_vote([[0, 2], [2], [2, 1]])
    assert chosen == [2, 0, 1] and conf == {2: 1.0, 0: pytest.approx(1 / 3), 1: pytest.approx(1 / 3)}
