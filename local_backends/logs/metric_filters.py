"""Metric filters: named filter patterns of a log group that turn matching events into
CloudWatch metrics, published through the session's CloudWatch (local or emulator) each
time events are put.

Matching values are grouped per minute and dimension set and published as ``Values`` /
``Counts`` datums at the events' own timestamps, so alarms on these metrics are evaluated
as the log events arrive. ``defaultValue`` is published for the minutes of a batch in
which no event matched.
"""
from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict

from botocore.exceptions import ClientError

from local_backends.core.base import operation
from local_backends.core.errors import AwsError, NotImplementedByBackend
from local_backends.core.state import encode_token

from . import errors
from .groups import now_ms
from .patterns import compile_pattern, extract

logger = logging.getLogger("aws_ml")
MAX_FILTERS = 100


class MetricFilters:
    """Metric filter operations (mixed into :class:`local_backends.logs.LogsBackend`)."""

    @operation
    def put_metric_filter(self, logGroupName: str, filterName: str, filterPattern: str,
                          metricTransformations: list, applyOnTransformedLogs: bool = False,
                          fieldSelectionCriteria: str | None = None, emitSystemFieldDimensions: list | None = None):
        if fieldSelectionCriteria or emitSystemFieldDimensions:
            raise NotImplementedByBackend("logs", "PutMetricFilter with fieldSelectionCriteria or "
                                                  "emitSystemFieldDimensions")
        compile_pattern(filterPattern)  # InvalidParameterException for a malformed pattern
        for t in metricTransformations:
            if t.get("dimensions") and t.get("defaultValue") is not None:
                raise errors.InvalidParameterException(
                    "You cannot specify both dimensions and a default value for a metric filter.")
            value = t["metricValue"]
            if not value.startswith("$"):
                try:
                    float(value)
                except ValueError:
                    raise errors.InvalidParameterException(
                        f"Invalid metric value: {value!r} (a number, $.json.selector or $field)") from None
        with self.store.transaction() as db:
            self._group_row(db, logGroupName)
            count, = db.execute("SELECT COUNT(*) FROM metric_filters WHERE group_name = ? AND name != ?",
                                (logGroupName, filterName)).fetchone()
            if count >= MAX_FILTERS:
                raise errors.LimitExceededException("Resource limit exceeded.")
            db.execute("INSERT OR REPLACE INTO metric_filters (group_name, name, pattern, transformations, created) "
                       "VALUES (?, ?, ?, ?, ?)",
                       (logGroupName, filterName, filterPattern, json.dumps(metricTransformations), now_ms()))
        return {}

    @operation
    def delete_metric_filter(self, logGroupName: str, filterName: str):
        with self.store.transaction() as db:
            self._group_row(db, logGroupName)
            if not db.execute("DELETE FROM metric_filters WHERE group_name = ? AND name = ?",
                              (logGroupName, filterName)).rowcount:
                raise errors.ResourceNotFoundException("The specified resource does not exist.")
        return {}

    @operation
    def describe_metric_filters(self, logGroupName: str | None = None, filterNamePrefix: str | None = None,
                                nextToken: str | None = None, limit: int | None = None,
                                metricName: str | None = None, metricNamespace: str | None = None):
        if filterNamePrefix and not logGroupName:
            raise errors.InvalidParameterException(
                "If you specify filterNamePrefix, you must also specify logGroupName.")
        if (metricName is None) != (metricNamespace is None):
            raise errors.InvalidParameterException("metricName and metricNamespace must be specified together.")
        db = self.store.connection()
        sql = "SELECT * FROM metric_filters WHERE 1 = 1"
        args: list = []
        if logGroupName:
            self._group_row(db, logGroupName)
            sql += " AND group_name = ?"
            args.append(logGroupName)
        if filterNamePrefix:
            sql += " AND substr(name, 1, ?) = ?"
            args += [len(filterNamePrefix), filterNamePrefix]
        rows = db.execute(sql + " ORDER BY group_name, name", args).fetchall()
        found = []
        for r in rows:
            transformations = json.loads(r["transformations"])
            if metricName is not None and not any(
                    t["metricName"] == metricName and t["metricNamespace"] == metricNamespace
                    for t in transformations):
                continue
            found.append({"filterName": r["name"], "filterPattern": r["pattern"],
                          "metricTransformations": transformations, "creationTime": r["created"],
                          "logGroupName": r["group_name"], "applyOnTransformedLogs": False})
        offset = self._token(nextToken, "offset", int, 0)
        page = limit or 50
        out: dict = {"metricFilters": found[offset:offset + page]}
        if offset + page < len(found):
            out["nextToken"] = encode_token({"offset": offset + page})
        return out

    # -- publishing --------------------------------------------------------------------
    def _publish_metric_filters(self, group: str, events: list[tuple[int, str]]) -> None:
        """Publish the metrics of ``group``'s filters for the (timestamp, message) events."""
        rows = self.store.query("SELECT name, pattern, transformations FROM metric_filters WHERE group_name = ?",
                                (group,))
        for row in rows:
            pattern = compile_pattern(row["pattern"])
            for t in json.loads(row["transformations"]):
                data = _datums(pattern, t, events)
                if data:
                    self._put_metrics(row["name"], t["metricNamespace"], data)

    def _put_metrics(self, filter_name: str, namespace: str, data: list[dict]) -> None:
        for i in range(0, len(data), 1000):
            chunk = data[i:i + 1000]
            try:
                local = self.peers.local("cloudwatch")
                if local is not None:
                    local.put_metric_data(Namespace=namespace, MetricData=chunk)
                else:
                    self.peers.client("cloudwatch").put_metric_data(Namespace=namespace, MetricData=chunk)
            except (AwsError, ClientError) as err:
                # AWS never fails PutLogEvents because of a metric filter: report it, go on.
                logger.warning("aws_ml: metric filter %r could not publish to %s: %s", filter_name, namespace, err)


def _datums(pattern, t: dict, events: list[tuple[int, str]]) -> list[dict]:
    minute = 60_000
    values: dict[tuple, Counter] = defaultdict(Counter)
    minutes = set()
    for ts, message in events:
        minutes.add(ts // minute)
        if not pattern(message):
            continue
        raw = extract(pattern, message, t["metricValue"])
        try:
            value = float(raw)
        except (TypeError, ValueError):
            continue
        dims = []
        for name, selector in sorted((t.get("dimensions") or {}).items()):
            dim = extract(pattern, message, selector)
            if dim is None or isinstance(dim, (dict, list)):
                break
            dims.append((name, str(dim)))
        else:
            values[(ts // minute, tuple(dims))][value] += 1
    data = []
    for (m, dims), counts in values.items():
        pairs = sorted(counts.items())
        for i in range(0, len(pairs), 150):
            chunk = pairs[i:i + 150]
            datum = {"MetricName": t["metricName"], "Timestamp": m * 60, "Values": [v for v, _ in chunk],
                     "Counts": [float(c) for _, c in chunk],
                     "Dimensions": [{"Name": n, "Value": v} for n, v in dims]}
            if t.get("unit"):
                datum["Unit"] = t["unit"]
            data.append(datum)
    default = t.get("defaultValue")
    if default is not None:
        matched = {m for m, _ in values}
        for m in sorted(minutes - matched):
            datum = {"MetricName": t["metricName"], "Timestamp": m * 60, "Value": float(default)}
            if t.get("unit"):
                datum["Unit"] = t["unit"]
            data.append(datum)
    return data
