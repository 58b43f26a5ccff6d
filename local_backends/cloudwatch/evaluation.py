"""How a metric alarm decides its state from the most recent periods of its metric.

The evaluation range is the ``EvaluationPeriods`` most recent periods up to now, aligned to
multiples of ``Period`` since the epoch; the newest is the period that contains the current
time, so a datum published now counts at once. Data are placed in periods by their own
timestamps: data older than the range do not count.

Each period is breaching, not breaching, or missing. ``TreatMissingData`` decides what a
missing period is: ``missing`` (the default) and ``ignore`` leave it out, ``breaching`` and
``notBreaching`` count it as such. The alarm is ``ALARM`` when at least
``DatapointsToAlarm`` (default ``EvaluationPeriods``) periods breach, else ``OK``; when every
period is missing it is ``INSUFFICIENT_DATA`` (``missing``), ``ALARM`` (``breaching``),
``OK`` (``notBreaching``) or unchanged (``ignore``).
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .times import iso

OPERATORS = {
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}
TREAT_MISSING = ("breaching", "notBreaching", "ignore", "missing")


@dataclass
class Period:
    start: float
    value: float | None
    sample_count: float = 0.0


@dataclass
class Outcome:
    state: str
    reason: str
    reason_data: dict = field(default_factory=dict)


def window(now: float, period: int, n: int) -> tuple[float, float]:
    """``(first, end)``: the start of the oldest period evaluated and the end of the newest."""
    current = math.floor(now / period) * period
    return current - (n - 1) * period, current + period


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%d/%m/%y %H:%M:%S")


def _fmt(v: float) -> str:
    return repr(float(v))


def evaluate(cfg: dict, periods: list[Period], now: float, current_state: str) -> Outcome | None:
    """The state the alarm should be in, or ``None`` to keep the current one."""
    test, words = OPERATORS[cfg["ComparisonOperator"]]
    threshold = cfg["Threshold"]
    n = cfg["EvaluationPeriods"]
    m = cfg.get("DatapointsToAlarm") or n
    treat = cfg.get("TreatMissingData") or "missing"
    present = [p for p in periods if p.value is not None]
    data = {
        "version": "1.0",
        "queryDate": iso(now),
        "startDate": iso(periods[0].start),
        "statistic": cfg.get("Statistic"),
        "period": cfg["Period"],
        "recentDatapoints": [p.value for p in reversed(present)],
        "threshold": float(threshold),
        "evaluatedDatapoints": [
            {"timestamp": iso(p.start), "sampleCount": p.sample_count, "value": p.value}
            for p in reversed(present)],
    }
    if cfg.get("ExtendedStatistic"):
        del data["statistic"]
        data["extendedStatistic"] = cfg["ExtendedStatistic"]
    if not present:
        missing = len(periods)
        if treat == "ignore":
            return None
        if treat == "missing":
            return Outcome("INSUFFICIENT_DATA",
                           f"Insufficient Data: {missing} datapoint{'s were' if missing > 1 else ' was'} unknown.",
                           data)
        state = "ALARM" if treat == "breaching" else "OK"
        return Outcome(state, f"Threshold Crossed: no datapoints were received for {missing} "
                              f"period{'s' if missing > 1 else ''} and {missing} missing "
                              f"datapoint{'s were' if missing > 1 else ' was'} treated as "
                              f"[{'Breaching' if treat == 'breaching' else 'NonBreaching'}].", data)
    breaching = [p for p in present if test(p.value, threshold)]
    count = len(breaching) + (len(periods) - len(present) if treat == "breaching" else 0)
    state = "ALARM" if count >= m else "OK"
    if breaching:  # show the breaching periods (too few of them, when the state is OK)
        shown, negation, transition, k = breaching, "", "OK -> ALARM", count
    else:
        shown = [p for p in present if not test(p.value, threshold)]
        negation, transition, k = "not ", "ALARM -> OK", len(shown)
    points = ", ".join(f"{_fmt(p.value)} ({_when(p.start)})" for p in reversed(shown))
    verb = "was" if k == 1 else "were"
    if n == 1:
        head = f"1 datapoint [{points}] {verb}"
    else:
        head = f"{k} out of the last {n} datapoints [{points}] {verb}"
    tail = "" if n == 1 else f" (minimum {m} datapoint{'s' if m > 1 else ''} for {transition} transition)"
    reason = f"Threshold Crossed: {head} {negation}{words} the threshold ({_fmt(threshold)}){tail}."
    return Outcome(state, reason, data)
