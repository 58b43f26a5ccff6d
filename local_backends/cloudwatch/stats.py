"""Statistics over stored data: the five basic statistics and the extended ones.

A stored datum is a statistic set (sample count, sum, minimum, maximum) plus, when it
carried several distinct values, its ``[[value, count], ...]`` list. As on AWS,
percentiles need the values: a statistic set contributes to them only when its sample
count is 1 or its minimum equals its maximum.

Extended statistics: ``pNN`` / ``pNN.NN`` (nearest-rank percentile), ``tmNN`` (mean of
the values up to the NN-th percentile), ``tcNN`` and ``tsNN`` (their count and sum).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Iterable

BASIC = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")

_EXTENDED = re.compile(r"(p|tm|tc|ts)(\d{1,2}(?:\.\d{1,2})?|100(?:\.0{1,2})?)")


def parse_extended(name: str) -> tuple[str, float] | None:
    """``("p", 99.9)`` for ``"p99.9"``; ``None`` if AWS would not accept the name."""
    m = _EXTENDED.fullmatch(name)
    if not m:
        return None
    return m.group(1), float(m.group(2))


@dataclass
class Row:
    """One stored datum."""
    ts: float
    unit: str
    n: float
    sum: float
    min: float
    max: float
    vals: str | None

    def pairs(self) -> list[tuple[float, float]] | None:
        """The (value, count) pairs, or ``None`` when only the statistic set is known."""
        if self.vals is not None:
            return [(v, c) for v, c in json.loads(self.vals)]
        if self.n == 1 or self.min == self.max:
            return [(self.min, self.n)]
        return None


def basic(rows: list[Row], stat: str) -> float:
    n = sum(r.n for r in rows)
    if stat == "SampleCount":
        return n
    if stat == "Sum":
        return sum(r.sum for r in rows)
    if stat == "Average":
        return sum(r.sum for r in rows) / n if n else 0.0
    if stat == "Minimum":
        return min(r.min for r in rows)
    if stat == "Maximum":
        return max(r.max for r in rows)
    raise ValueError(stat)


def extended(rows: Iterable[Row], name: str) -> float | None:
    """An extended statistic, or ``None`` when the data cannot give it."""
    kind, p = parse_extended(name)
    pairs: list[tuple[float, float]] = []
    for r in rows:
        got = r.pairs()
        if got is not None:
            pairs.extend(got)
    pairs = [(v, c) for v, c in pairs if c > 0]
    if not pairs:
        return None
    pairs.sort()
    total = sum(c for _, c in pairs)
    rank = max(1.0, math.ceil(p / 100.0 * total - 1e-9))
    if kind == "p":
        seen = 0.0
        for v, c in pairs:
            seen += c
            if seen >= rank:
                return v
        return pairs[-1][0]
    # trimmed statistics: the values at or below the p-th percentile
    kept_n = kept_sum = 0.0
    for v, c in pairs:
        take = min(c, rank - kept_n)
        if take <= 0:
            break
        kept_n += take
        kept_sum += v * take
    if kind == "tc":
        return kept_n
    if kind == "ts":
        return kept_sum
    return kept_sum / kept_n if kept_n else None


def statistic(rows: list[Row], name: str) -> float | None:
    """Any statistic (basic or extended) of ``rows``; ``None`` if it cannot be computed."""
    if not rows:
        return None
    if name in BASIC:
        return basic(rows, name)
    return extended(rows, name)
