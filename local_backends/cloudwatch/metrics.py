"""CloudWatch metric operations: PutMetricData, GetMetricStatistics, GetMetricData, ListMetrics."""
from __future__ import annotations

import json
import math
from collections import defaultdict

from local_backends.core.base import operation
from local_backends.core.errors import NotImplementedByBackend
from local_backends.core.state import encode_token, token_value

from . import errors
from .stats import BASIC, Row, parse_extended, statistic
from .store import canonical_dims, dims_list
from .times import epoch, now, utc

MAX_DATUMS = 1000
MAX_VALUES = 150
MAX_ABS_VALUE = 2.0 ** 360
MAX_DATAPOINTS = 1440
TWO_WEEKS = 14 * 86400
TWO_HOURS = 2 * 3600
LIST_PAGE = 500
_HIGH_RES_PERIODS = (1, 5, 10, 20, 30)


def check_period(period: int, name: str = "Period") -> None:
    if period not in _HIGH_RES_PERIODS and period % 60:
        raise errors.InvalidParameterValue(f"The parameter {name} must be a multiple of 60.")


def bucket_start(start: float, period: int) -> float:
    """AWS rounds StartTime down (to the minute for periods of a minute or more)."""
    step = 60 if period >= 60 else 1
    return math.floor(start / step) * step


class Metrics:
    """Metric operations (mixed into :class:`local_backends.cloudwatch.CloudWatchBackend`)."""

    # -- storage helpers ---------------------------------------------------------------
    def _metric_id(self, db, namespace: str, name: str, dims: str,
                   created: dict | None = None) -> int | None:
        """The id of a metric; with ``created``, make it if needed (the caller caches the
        ids it made once its transaction commits: a rolled-back id must not be kept)."""
        key = (namespace, name, dims)
        mid = self._metric_ids.get(key)
        if mid is not None:
            return mid
        if created is not None:
            db.execute("INSERT OR IGNORE INTO metrics (namespace, name, dims) VALUES (?, ?, ?)", key)
        row = db.execute("SELECT id FROM metrics WHERE namespace = ? AND name = ? AND dims = ?",
                         key).fetchone()
        if row is None:
            return None
        if created is None:
            self._metric_ids[key] = row[0]
        else:
            created[key] = row[0]
        return row[0]

    def _rows(self, metric_id: int, start: float, end: float, unit: str | None,
              db=None) -> list[Row]:
        db = db or self.store.connection()
        sql = "SELECT ts, unit, n, sum, min, max, vals FROM data WHERE metric = ? AND ts >= ? AND ts < ?"
        args: tuple = (metric_id, start, end)
        if unit is not None:
            sql += " AND unit = ?"
            args += (unit,)
        return [Row(*r) for r in db.execute(sql, args)]

    # -- PutMetricData -----------------------------------------------------------------
    @operation
    def put_metric_data(self, Namespace: str, MetricData: list | None = None,
                        EntityMetricData: list | None = None, StrictEntityValidation: bool = False):
        if Namespace.startswith("AWS/"):
            raise errors.InvalidParameterValue(f"The value {Namespace} for parameter Namespace is invalid.")
        return self._put(Namespace, MetricData, EntityMetricData)

    def publish_service_metrics(self, namespace: str, metric_data: list) -> None:
        """What an AWS service publishes itself (``AWS/SageMaker`` for endpoints, ...): the
        same as ``put_metric_data`` without its refusal of ``AWS/`` namespaces. For other
        local backends, never for users."""
        self._put(namespace, metric_data, None)

    def _put(self, Namespace: str, MetricData: list | None, EntityMetricData: list | None) -> dict:
        # Entities only link telemetry to resources in the console: their data is plain data here.
        MetricData = list(MetricData or ()) + [d for e in EntityMetricData or () for d in e.get("MetricData", ())]
        if not MetricData:
            raise errors.MissingParameter("The parameter MetricData is required.")
        if len(MetricData) > MAX_DATUMS:
            raise errors.InvalidParameterValue(
                f"The collection MetricData must not have a size greater than {MAX_DATUMS}.")
        received = now()
        rows = [_datum_row(i, d, received) for i, d in enumerate(MetricData, 1)]
        touched = set()
        created: dict = {}
        with self.store.transaction() as db:
            values = []
            for d, row in zip(MetricData, rows):
                mid = self._metric_id(db, Namespace, d["MetricName"], canonical_dims(d.get("Dimensions")),
                                      created)
                values.append((mid,) + row)
                touched.add(d["MetricName"])
            db.executemany("INSERT INTO data (metric, ts, unit, n, sum, min, max, vals, received) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
            fired = self._evaluate_for_metrics(db, Namespace, touched, received)
        self._metric_ids.update(created)
        self._fire_all(fired)
        return {}

    # -- GetMetricStatistics -----------------------------------------------------------
    @operation
    def get_metric_statistics(self, Namespace: str, MetricName: str, StartTime, EndTime, Period: int,
                              Dimensions: list | None = None, Statistics: list | None = None,
                              ExtendedStatistics: list | None = None, Unit: str | None = None):
        start, end = epoch(StartTime), epoch(EndTime)
        if not Statistics and not ExtendedStatistics:
            raise errors.InvalidParameterCombination("Must specify either Statistics or ExtendedStatistics")
        for name in ExtendedStatistics or ():
            if parse_extended(name) is None:
                raise errors.InvalidParameterValue(
                    f"The value {name} for parameter ExtendedStatistics is not supported.")
        check_period(Period)
        if start == end:
            raise errors.InvalidParameterValue("The parameter StartTime must not equal parameter EndTime.")
        if start > end:
            raise errors.InvalidParameterValue("The parameter StartTime must be less than the parameter EndTime.")
        first = bucket_start(start, Period)
        requested = math.ceil((end - first) / Period)
        if requested > MAX_DATAPOINTS:
            raise errors.InvalidParameterCombination(
                f"You have requested up to {requested} datapoints, which exceeds the limit of "
                f"{MAX_DATAPOINTS}. You may reduce the datapoints requested by increasing Period, "
                f"or decreasing the time range.")
        mid = self._metric_id(self.store.connection(), Namespace, MetricName, canonical_dims(Dimensions))
        datapoints = []
        if mid is not None:
            groups: dict[tuple[int, str], list[Row]] = defaultdict(list)
            for r in self._rows(mid, first, end, Unit):
                groups[(int((r.ts - first) // Period), r.unit)].append(r)
            for (b, unit), rows in sorted(groups.items()):
                point = {"Timestamp": utc(first + b * Period), "Unit": unit}
                for name in Statistics or ():
                    point[name] = statistic(rows, name)
                ext = {}
                for name in ExtendedStatistics or ():
                    value = statistic(rows, name)
                    if value is not None:
                        ext[name] = value
                if ExtendedStatistics:
                    point["ExtendedStatistics"] = ext
                datapoints.append(point)
        return {"Label": MetricName, "Datapoints": datapoints}

    # -- GetMetricData -----------------------------------------------------------------
    @operation
    def get_metric_data(self, MetricDataQueries: list, StartTime, EndTime, NextToken: str | None = None,
                        ScanBy: str = "TimestampDescending", MaxDatapoints: int | None = None,
                        LabelOptions: dict | None = None):
        start, end = epoch(StartTime), epoch(EndTime)
        if start >= end:
            raise errors.ValidationError("The parameter StartTime must be less than the parameter EndTime.")
        ids = [q["Id"] for q in MetricDataQueries]
        if len(set(ids)) != len(ids):
            raise errors.ValidationError("The values for parameter id in MetricDataQueries are not unique.")
        limit = MaxDatapoints or 100800
        offsets: dict[str, int] = {}
        if NextToken is not None:
            offsets = token_value(NextToken, "offsets", dict, errors.InvalidNextToken("The service cannot process the NextToken."))
        results = []
        budget = limit
        reached: dict[str, int] = {}
        complete = True
        for i, q in enumerate(MetricDataQueries, 1):
            if "Expression" in q:
                raise NotImplementedByBackend(
                    "cloudwatch", f"GetMetricData with a metric math Expression (query {q['Id']!r})")
            if "MetricStat" not in q:
                raise errors.ValidationError(
                    f"The parameter MetricDataQueries.member.{i}.MetricStat is required.")
            if q.get("ReturnData", True) is False:
                continue
            ts, vals = self._query_series(q["MetricStat"], start, end, f"MetricDataQueries.member.{i}")
            if ScanBy == "TimestampDescending":
                ts, vals = ts[::-1], vals[::-1]
            off = offsets.get(q["Id"], 0)
            take = max(0, min(budget, len(ts) - off))
            budget -= take
            done = off + take >= len(ts)
            complete = complete and done
            reached[q["Id"]] = off + take
            results.append({
                "Id": q["Id"],
                "Label": q.get("Label") or q["MetricStat"]["Metric"]["MetricName"],
                "Timestamps": ts[off:off + take],
                "Values": vals[off:off + take],
                "StatusCode": "Complete" if done else "PartialData",
            })
        out = {"MetricDataResults": results, "Messages": []}
        if not complete:
            out["NextToken"] = encode_token({"offsets": reached})
        return out

    def _query_series(self, stat: dict, start: float, end: float, where: str):
        metric = stat["Metric"]
        period = stat["Period"]
        check_period(period, f"{where}.MetricStat.Period")
        name = stat["Stat"]
        if name not in BASIC and parse_extended(name) is None:
            raise errors.InvalidParameterValue(
                f"The value {name} for parameter {where}.MetricStat.Stat is not supported.")
        mid = self._metric_id(self.store.connection(), metric.get("Namespace", ""), metric["MetricName"],
                              canonical_dims(metric.get("Dimensions")))
        if mid is None:
            return [], []
        first = bucket_start(start, period)
        groups: dict[int, list[Row]] = defaultdict(list)
        for r in self._rows(mid, first, end, stat.get("Unit")):
            groups[int((r.ts - first) // period)].append(r)
        ts, vals = [], []
        for b in sorted(groups):
            value = statistic(groups[b], name)
            if value is not None:
                ts.append(utc(first + b * period))
                vals.append(value)
        return ts, vals

    # -- ListMetrics -------------------------------------------------------------------
    @operation
    def list_metrics(self, Namespace: str | None = None, MetricName: str | None = None,
                     Dimensions: list | None = None, NextToken: str | None = None,
                     RecentlyActive: str | None = None, IncludeLinkedAccounts: bool = False,
                     OwningAccount: str | None = None):
        after = 0
        if NextToken is not None:
            after = token_value(NextToken, "after", int, errors.InvalidParameterValue("Request parameter NextToken is invalid"))
        sql = "SELECT id, namespace, name, dims FROM metrics WHERE id > ?"
        args: list = [after]
        if Namespace is not None:
            sql += " AND namespace = ?"
            args.append(Namespace)
        if MetricName is not None:
            sql += " AND name = ?"
            args.append(MetricName)
        if RecentlyActive is not None:  # PT3H is the only value the model allows
            sql += " AND EXISTS (SELECT 1 FROM data WHERE data.metric = metrics.id AND data.received >= ?)"
            args.append(now() - 3 * 3600)
        sql += " ORDER BY id"
        out, last, more = [], None, False
        for mid, ns, name, dims in self.store.connection().execute(sql, args):
            have = json.loads(dims)
            if not all(any(n == f["Name"] and ("Value" not in f or v == f["Value"]) for n, v in have)
                       for f in Dimensions or ()):
                continue
            if len(out) == LIST_PAGE:
                more = True
                break
            out.append({"Namespace": ns, "MetricName": name, "Dimensions": dims_list(dims)})
            last = mid
        result = {"Metrics": out}
        if more:
            result["NextToken"] = encode_token({"after": last})
        return result


def _datum_row(i: int, d: dict, received: float) -> tuple:
    """A datum reduced to (ts, unit, n, sum, min, max, vals), after AWS's checks."""
    where = f"MetricData.member.{i}"
    has_value, has_values, has_stats = "Value" in d, bool(d.get("Values")), "StatisticValues" in d
    if has_value and has_stats:
        raise errors.InvalidParameterCombination(
            f"The parameters {where}.Value and {where}.StatisticValues are mutually exclusive "
            f"and you have specified both.")
    if has_value and has_values:
        raise errors.InvalidParameterCombination(
            f"The parameters {where}.Value and {where}.Values are mutually exclusive "
            f"and you have specified both.")
    if has_values and has_stats:
        raise errors.InvalidParameterCombination(
            f"The parameters {where}.Values and {where}.StatisticValues are mutually exclusive "
            f"and you have specified both.")
    resolution = d.get("StorageResolution")
    if resolution is not None and resolution not in (1, 60):
        raise errors.InvalidParameterValue(
            f"The value {resolution} for parameter {where}.StorageResolution is invalid.")
    names = [x["Name"] for x in d.get("Dimensions") or ()]
    if len(set(names)) != len(names):
        raise errors.InvalidParameterValue(
            f"No Metric may specify the same dimension name twice ({where}.Dimensions).")
    ts = epoch(d["Timestamp"]) if "Timestamp" in d else received
    if ts < received - TWO_WEEKS:
        raise errors.InvalidParameterValue(
            f"The parameter {where}.Timestamp must specify a time within the past two weeks.")
    if ts > received + TWO_HOURS:
        raise errors.InvalidParameterValue(
            f"The parameter {where}.Timestamp must specify a time no more than two hours in the future.")
    unit = d.get("Unit") or "None"
    if has_stats:
        s = d["StatisticValues"]
        for k in ("SampleCount", "Sum", "Minimum", "Maximum"):
            _check_value(s[k], f"{where}.StatisticValues.{k}")
        if s["SampleCount"] <= 0:
            raise errors.InvalidParameterValue(
                f"The value {s['SampleCount']} for parameter {where}.StatisticValues.SampleCount is invalid.")
        if s["Minimum"] > s["Maximum"]:
            raise errors.InvalidParameterValue(
                f"The value {s['Minimum']} for parameter {where}.StatisticValues.Minimum is invalid.")
        return (ts, unit, float(s["SampleCount"]), float(s["Sum"]), float(s["Minimum"]),
                float(s["Maximum"]), None, received)
    if has_values:
        values = d["Values"]
        counts = d.get("Counts")
        if len(values) > MAX_VALUES:
            raise errors.InvalidParameterValue(
                f"The collection {where}.Values must not have a size greater than {MAX_VALUES}.")
        if counts is not None and len(counts) != len(values):
            raise errors.InvalidParameterValue(
                f"The parameters {where}.Values and {where}.Counts must be of the same size.")
        for v in values:
            _check_value(v, f"{where}.Values")
        counts = [float(c) for c in counts] if counts is not None else [1.0] * len(values)
        for c in counts:
            if not math.isfinite(c) or c < 0:
                raise errors.InvalidParameterValue(f"The value {c} for parameter {where}.Counts is invalid.")
        merged: dict[float, float] = defaultdict(float)
        for v, c in zip(values, counts):
            merged[float(v)] += c
        pairs = [[v, c] for v, c in sorted(merged.items()) if c > 0]
        if not pairs:
            raise errors.InvalidParameterValue(f"The parameter {where}.Counts must contain a positive count.")
        n = sum(c for _, c in pairs)
        return (ts, unit, n, sum(v * c for v, c in pairs), pairs[0][0], pairs[-1][0],
                json.dumps(pairs) if len(pairs) > 1 else None, received)
    if not has_value:
        if d.get("Counts"):
            raise errors.InvalidParameterCombination(
                f"The parameter {where}.Counts must be used with {where}.Values.")
        raise errors.MissingParameter(
            f"At least one of the parameters {where}.Value, {where}.Values or "
            f"{where}.StatisticValues must be specified.")
    v = d["Value"]
    _check_value(v, f"{where}.Value")
    v = float(v)
    return (ts, unit, 1.0, v, v, v, None, received)


def _check_value(v, where: str) -> None:
    if not math.isfinite(v) or abs(v) > MAX_ABS_VALUE:
        raise errors.InvalidParameterValue(f"The value {v} for parameter {where} is invalid.")
