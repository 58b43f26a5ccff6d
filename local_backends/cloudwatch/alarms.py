"""CloudWatch metric alarms: configuration, evaluation as data arrive, history, tags.

Alarms are evaluated (see :mod:`.evaluation`) when data of their metric is published, when
they are created or updated, and by ``DescribeAlarms`` / ``DescribeAlarmsForMetric`` when
their last evaluation is more than a minute old (AWS evaluates every minute), so that time
passing moves them too. ``SetAlarmState`` counts as an evaluation: the state it sets holds
until the next datum or the next minute, as on AWS.
"""
from __future__ import annotations

import json
from typing import Any

from local_backends.core.base import operation
from local_backends.core.errors import NotImplementedByBackend
from local_backends.core.state import encode_token, token_value

from . import errors
from .evaluation import OPERATORS, TREAT_MISSING, Outcome, Period, evaluate, window
from .stats import BASIC, parse_extended, statistic
from .store import canonical_dims
from .times import epoch, iso, now, utc

EVALUATION_INTERVAL = 60.0
INITIAL_REASON = "Unchecked: Initial alarm creation"
_CONFIG_KEYS = ("AlarmDescription", "OKActions", "AlarmActions", "InsufficientDataActions",
                "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period",
                "Unit", "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator",
                "TreatMissingData", "EvaluateLowSampleCountPercentile", "Metrics", "ThresholdMetricId")
_COLUMNS = ("name, namespace, metric_name, config, state, reason, reason_data, state_updated, "
            "state_transitioned, config_updated, actions_enabled, evaluated")


def metric_of(cfg: dict) -> dict:
    """The metric an alarm watches: Namespace, MetricName, Dimensions, Stat, Period, Unit."""
    if cfg.get("Metrics"):
        stat = next(q["MetricStat"] for q in cfg["Metrics"] if "MetricStat" in q)
        return {"Namespace": stat["Metric"].get("Namespace"), "MetricName": stat["Metric"]["MetricName"],
                "Dimensions": stat["Metric"].get("Dimensions"), "Stat": stat["Stat"],
                "Period": stat["Period"], "Unit": stat.get("Unit")}
    return {"Namespace": cfg["Namespace"], "MetricName": cfg["MetricName"],
            "Dimensions": cfg.get("Dimensions"), "Stat": cfg.get("Statistic") or cfg.get("ExtendedStatistic"),
            "Period": cfg["Period"], "Unit": cfg.get("Unit")}


class Alarms:
    """Alarm operations (mixed into :class:`local_backends.cloudwatch.CloudWatchBackend`)."""

    # -- PutMetricAlarm ----------------------------------------------------------------
    @operation
    def put_metric_alarm(self, AlarmName: str, ActionsEnabled: bool = True, Tags: list | None = None,
                         **params: Any):
        cfg = {k: params[k] for k in _CONFIG_KEYS if params.get(k) is not None}
        unsupported = sorted(set(params) - set(_CONFIG_KEYS))
        if unsupported:
            raise NotImplementedByBackend("cloudwatch", f"PutMetricAlarm with {', '.join(unsupported)}")
        _check_alarm(cfg)
        for key in ("OKActions", "AlarmActions", "InsufficientDataActions"):
            cfg.setdefault(key, [])
        if "Metrics" not in cfg:
            cfg.setdefault("Dimensions", [])
        cfg["Threshold"] = float(cfg["Threshold"])
        watched = metric_of(cfg)
        t = now()
        with self.store.transaction() as db:
            old = db.execute("SELECT state FROM alarms WHERE name = ?", (AlarmName,)).fetchone()
            if old is None:
                db.execute(f"INSERT INTO alarms ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, 0)",
                           (AlarmName, watched["Namespace"], watched["MetricName"], json.dumps(cfg),
                            "INSUFFICIENT_DATA", INITIAL_REASON, t, t, t, int(bool(ActionsEnabled))))
                kind, summary = "Create", f'Alarm "{AlarmName}" created'
            else:
                db.execute("UPDATE alarms SET namespace = ?, metric_name = ?, config = ?, config_updated = ?, "
                           "actions_enabled = ? WHERE name = ?",
                           (watched["Namespace"], watched["MetricName"], json.dumps(cfg), t,
                            int(bool(ActionsEnabled)), AlarmName))
                kind, summary = "Update", f'Alarm "{AlarmName}" updated'
            described = self._describe_row(db.execute(f"SELECT {_COLUMNS} FROM alarms WHERE name = ?",
                                                      (AlarmName,)).fetchone())
            key = "createdAlarm" if kind == "Create" else "updatedAlarm"
            self._history(db, AlarmName, t, "ConfigurationUpdate", summary,
                          {"type": kind, "version": "1.0", key: _jsonable(described)})
            if Tags and kind == "Create":  # AWS ignores Tags when an alarm is updated
                db.executemany("INSERT OR REPLACE INTO tags (arn, key, value) VALUES (?, ?, ?)",
                               [(self._alarm_arn(AlarmName), tag["Key"], tag["Value"]) for tag in Tags])
            fired = self._evaluate_rows(db, [AlarmName], t)
        self._fire_all(fired)
        return {}

    # -- describe ----------------------------------------------------------------------
    @operation
    def describe_alarms(self, AlarmNames: list | None = None, AlarmNamePrefix: str | None = None,
                        AlarmTypes: list | None = None, StateValue: str | None = None,
                        ActionPrefix: str | None = None, MaxRecords: int | None = None,
                        NextToken: str | None = None, ChildrenOfAlarmName: str | None = None,
                        ParentsOfAlarmName: str | None = None):
        if AlarmNames and AlarmNamePrefix:
            raise errors.InvalidParameterCombination(
                "AlarmNames and AlarmNamePrefix cannot be specified together.")
        if ChildrenOfAlarmName or ParentsOfAlarmName:
            raise NotImplementedByBackend("cloudwatch", "DescribeAlarms of composite alarms")
        self._refresh()
        after = self._token_value(NextToken, "after", str, "")
        sql = f"SELECT {_COLUMNS} FROM alarms WHERE name > ?"
        args: list = [after]
        if AlarmNames:
            sql += f" AND name IN ({','.join('?' * len(AlarmNames))})"
            args += AlarmNames
        if AlarmNamePrefix:
            sql += " AND substr(name, 1, ?) = ?"
            args += [len(AlarmNamePrefix), AlarmNamePrefix]
        if StateValue:
            sql += " AND state = ?"
            args.append(StateValue)
        sql += " ORDER BY name"
        want_metric = not AlarmTypes or "MetricAlarm" in AlarmTypes
        limit = MaxRecords or 50
        out, more = [], False
        if want_metric:
            for row in self.store.connection().execute(sql, args):
                alarm = self._describe_row(row)
                if ActionPrefix and not any(a.startswith(ActionPrefix) for a in alarm["AlarmActions"]
                                            + alarm["OKActions"] + alarm["InsufficientDataActions"]):
                    continue
                if len(out) == limit:
                    more = True
                    break
                out.append(alarm)
        result: dict = {"MetricAlarms": out}
        if AlarmTypes and "CompositeAlarm" in AlarmTypes:
            result["CompositeAlarms"] = []
        if more:
            result["NextToken"] = encode_token({"after": out[-1]["AlarmName"]})
        return result

    @operation
    def describe_alarms_for_metric(self, MetricName: str, Namespace: str, Statistic: str | None = None,
                                   ExtendedStatistic: str | None = None, Dimensions: list | None = None,
                                   Period: int | None = None, Unit: str | None = None):
        self._refresh()
        dims = canonical_dims(Dimensions)
        out = []
        for row in self.store.connection().execute(
                f"SELECT {_COLUMNS} FROM alarms WHERE namespace = ? AND metric_name = ? ORDER BY name",
                (Namespace, MetricName)):
            m = metric_of(json.loads(row["config"]))
            if canonical_dims(m["Dimensions"]) != dims:
                continue
            if Statistic is not None and m["Stat"] != Statistic:
                continue
            if ExtendedStatistic is not None and m["Stat"] != ExtendedStatistic:
                continue
            if Period is not None and m["Period"] != Period:
                continue
            if Unit is not None and m["Unit"] != Unit:
                continue
            out.append(self._describe_row(row))
        return {"MetricAlarms": out}

    # -- delete / state / actions --------------------------------------------------------
    @operation
    def delete_alarms(self, AlarmNames: list):
        # AWS answers success for names that do not exist.
        with self.store.transaction() as db:
            for name in AlarmNames:
                if db.execute("DELETE FROM alarms WHERE name = ?", (name,)).rowcount:
                    db.execute("DELETE FROM tags WHERE arn = ?", (self._alarm_arn(name),))
                    self._history(db, name, now(), "ConfigurationUpdate", f'Alarm "{name}" deleted',
                                  {"type": "Delete", "version": "1.0"})
        return {}

    @operation
    def set_alarm_state(self, AlarmName: str, StateValue: str, StateReason: str,
                        StateReasonData: str | None = None):
        data = None
        if StateReasonData is not None:
            try:
                data = json.loads(StateReasonData)
            except ValueError:
                raise errors.InvalidFormat("Unknown") from None
        t = now()
        with self.store.transaction() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM alarms WHERE name = ?", (AlarmName,)).fetchone()
            if row is None:
                raise errors.ResourceNotFound(f"Alarm {AlarmName} not found")
            fired = self._transition(db, row, Outcome(StateValue, StateReason, data), t)
            db.execute("UPDATE alarms SET evaluated = ? WHERE name = ?", (t, AlarmName))
        self._fire_all(fired)
        return {}

    @operation
    def enable_alarm_actions(self, AlarmNames: list):
        return self._set_actions(AlarmNames, True)

    @operation
    def disable_alarm_actions(self, AlarmNames: list):
        return self._set_actions(AlarmNames, False)

    def _set_actions(self, names: list, enabled: bool) -> dict:
        with self.store.transaction() as db:
            db.executemany("UPDATE alarms SET actions_enabled = ? WHERE name = ?",
                           [(int(enabled), n) for n in names])
        return {}

    # -- history -----------------------------------------------------------------------
    @operation
    def describe_alarm_history(self, AlarmName: str | None = None, AlarmTypes: list | None = None,
                               HistoryItemType: str | None = None, StartDate=None, EndDate=None,
                               MaxRecords: int | None = None, NextToken: str | None = None,
                               ScanBy: str = "TimestampDescending", AlarmContributorId: str | None = None):
        sql = "SELECT id, alarm, ts, type, summary, data FROM history WHERE 1 = 1"
        args: list = []
        position = self._token_value(NextToken, "pos", int, None)
        descending = ScanBy != "TimestampAscending"
        if position is not None:
            sql += " AND id < ?" if descending else " AND id > ?"
            args.append(position)
        if AlarmName:
            sql += " AND alarm = ?"
            args.append(AlarmName)
        if HistoryItemType:
            sql += " AND type = ?"
            args.append(HistoryItemType)
        if StartDate is not None:
            sql += " AND ts >= ?"
            args.append(epoch(StartDate))
        if EndDate is not None:
            sql += " AND ts <= ?"
            args.append(epoch(EndDate))
        if AlarmTypes and "MetricAlarm" not in AlarmTypes:
            sql += " AND 0"
        sql += " ORDER BY id DESC" if descending else " ORDER BY id"
        limit = MaxRecords or 100
        rows = self.store.connection().execute(sql + " LIMIT ?", args + [limit + 1]).fetchall()
        items = [{"AlarmName": r["alarm"], "AlarmType": "MetricAlarm", "Timestamp": utc(r["ts"]),
                  "HistoryItemType": r["type"], "HistorySummary": r["summary"], "HistoryData": r["data"]}
                 for r in rows[:limit]]
        result: dict = {"AlarmHistoryItems": items}
        if len(rows) > limit:
            result["NextToken"] = encode_token({"pos": rows[limit - 1]["id"]})
        return result

    # -- tags --------------------------------------------------------------------------
    @operation
    def tag_resource(self, ResourceARN: str, Tags: list):
        with self.store.transaction() as db:
            self._check_arn(db, ResourceARN)
            db.executemany("INSERT OR REPLACE INTO tags (arn, key, value) VALUES (?, ?, ?)",
                           [(ResourceARN, t["Key"], t["Value"]) for t in Tags])
        return {}

    @operation
    def untag_resource(self, ResourceARN: str, TagKeys: list):
        with self.store.transaction() as db:
            self._check_arn(db, ResourceARN)
            db.executemany("DELETE FROM tags WHERE arn = ? AND key = ?", [(ResourceARN, k) for k in TagKeys])
        return {}

    @operation
    def list_tags_for_resource(self, ResourceARN: str):
        db = self.store.connection()
        self._check_arn(db, ResourceARN)
        rows = db.execute("SELECT key, value FROM tags WHERE arn = ? ORDER BY key", (ResourceARN,))
        return {"Tags": [{"Key": k, "Value": v} for k, v in rows]}

    def _check_arn(self, db, arn: str) -> None:
        prefix = self._alarm_arn("")
        if not (arn.startswith(prefix) and db.execute("SELECT 1 FROM alarms WHERE name = ?",
                                                     (arn[len(prefix):],)).fetchone()):
            raise errors.ResourceNotFoundException("Unknown")

    # -- internals ---------------------------------------------------------------------
    def _alarm_arn(self, name: str) -> str:
        return self.arn(f"alarm:{name}")

    @staticmethod
    def _token_value(token: str | None, key: str, kind: type, default):
        if token is None:
            return default
        return token_value(token, key, kind, errors.InvalidNextToken("The service cannot process the NextToken."))

    def _describe_row(self, row) -> dict:
        cfg = json.loads(row["config"])
        alarm = {"AlarmName": row["name"], "AlarmArn": self._alarm_arn(row["name"])}
        if "AlarmDescription" in cfg:
            alarm["AlarmDescription"] = cfg["AlarmDescription"]
        alarm.update({
            "AlarmConfigurationUpdatedTimestamp": utc(row["config_updated"]),
            "ActionsEnabled": bool(row["actions_enabled"]),
            "OKActions": cfg["OKActions"], "AlarmActions": cfg["AlarmActions"],
            "InsufficientDataActions": cfg["InsufficientDataActions"],
            "StateValue": row["state"], "StateReason": row["reason"],
        })
        if row["reason_data"] is not None:
            alarm["StateReasonData"] = row["reason_data"]
        alarm["StateUpdatedTimestamp"] = utc(row["state_updated"])
        for key in ("MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period",
                    "Unit", "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator",
                    "TreatMissingData", "EvaluateLowSampleCountPercentile", "Metrics", "ThresholdMetricId"):
            if key in cfg:
                alarm[key] = cfg[key]
        alarm["StateTransitionedTimestamp"] = utc(row["state_transitioned"])
        return alarm

    def _history(self, db, name: str, ts: float, kind: str, summary: str, data: dict) -> None:
        db.execute("INSERT INTO history (alarm, ts, type, summary, data) VALUES (?, ?, ?, ?, ?)",
                   (name, ts, kind, summary[:255], json.dumps(data, separators=(",", ":"))))

    def _refresh(self) -> None:
        """Evaluate the alarms whose last evaluation is more than a minute old."""
        t = now()
        stale = [r[0] for r in self.store.query("SELECT name FROM alarms WHERE evaluated < ?",
                                               (t - EVALUATION_INTERVAL,))]
        if stale:
            with self.store.transaction() as db:
                fired = self._evaluate_rows(db, stale, t)
            self._fire_all(fired)

    def _evaluate_for_metrics(self, db, namespace: str, metric_names, t: float) -> list:
        names = [r[0] for name in metric_names for r in db.execute(
            "SELECT name FROM alarms WHERE namespace = ? AND metric_name = ?", (namespace, name))]
        return self._evaluate_rows(db, names, t) if names else []

    def _evaluate_rows(self, db, names: list[str], t: float) -> list:
        fired = []
        for name in names:
            row = db.execute(f"SELECT {_COLUMNS} FROM alarms WHERE name = ?", (name,)).fetchone()
            if row is None:
                continue
            cfg = json.loads(row["config"])
            m = metric_of(cfg)
            periods = self._periods(db, m, cfg["EvaluationPeriods"], t)
            stat_key = "Statistic" if m["Stat"] in BASIC else "ExtendedStatistic"
            outcome = evaluate({**cfg, "Period": m["Period"], stat_key: m["Stat"]}, periods, t, row["state"])
            db.execute("UPDATE alarms SET evaluated = ? WHERE name = ?", (t, name))
            if outcome is not None and outcome.state != row["state"]:
                fired += self._transition(db, row, outcome, t)
        return fired

    def _periods(self, db, m: dict, n: int, t: float) -> list[Period]:
        period = m["Period"]
        first, end = window(t, period, n)
        mid = self._metric_id(db, m["Namespace"], m["MetricName"], canonical_dims(m["Dimensions"]))
        buckets: list[list] = [[] for _ in range(n)]
        if mid is not None:
            for r in self._rows(mid, first, end, m["Unit"], db):
                buckets[int((r.ts - first) // period)].append(r)
        return [Period(first + i * period, statistic(rows, m["Stat"]) if rows else None,
                       sum(r.n for r in rows)) for i, rows in enumerate(buckets)]

    def _transition(self, db, row, outcome: Outcome, t: float) -> list:
        """Write a new state (and its history item); the actions to fire after commit."""
        old = row["state"]
        data = json.dumps(outcome.reason_data, separators=(",", ":")) if outcome.reason_data else None
        changed = outcome.state != old
        db.execute("UPDATE alarms SET state = ?, reason = ?, reason_data = ?, state_updated = ?"
                   + (", state_transitioned = ?" if changed else "") + " WHERE name = ?",
                   (outcome.state, outcome.reason, data, t) + ((t,) if changed else ()) + (row["name"],))
        if not changed:
            return []
        new_state = {"stateValue": outcome.state, "stateReason": outcome.reason}
        if outcome.reason_data:
            new_state["stateReasonData"] = outcome.reason_data
        self._history(db, row["name"], t, "StateUpdate", f"Alarm updated from {old} to {outcome.state}",
                      {"version": "1.0", "oldState": {"stateValue": old, "stateReason": row["reason"]},
                       "newState": new_state})
        return [(row["name"], old, outcome.state)]

    def _fire_all(self, fired: list) -> None:
        for name, old, new in fired:
            row = self.store.query_one(f"SELECT {_COLUMNS} FROM alarms WHERE name = ?", (name,))
            if row is not None:
                self._fire_actions(self._describe_row(row), old, new)


def _check_alarm(cfg: dict) -> None:
    """AWS's checks of a metric alarm's configuration."""
    if cfg.get("Metrics"):
        if "MetricName" in cfg or "Namespace" in cfg or "Statistic" in cfg or "ExtendedStatistic" in cfg:
            raise errors.ValidationError(
                "Metrics list cannot be specified together with MetricName, Namespace, Statistic "
                "or ExtendedStatistic.")
        returned = [q for q in cfg["Metrics"] if q.get("ReturnData", True)]
        if any("Expression" in q for q in cfg["Metrics"]) or len(returned) != 1 \
                or "MetricStat" not in returned[0]:
            raise NotImplementedByBackend(
                "cloudwatch", "PutMetricAlarm with metric math (only one MetricStat query is supported)")
        period = returned[0]["MetricStat"]["Period"]
        stat = returned[0]["MetricStat"]["Stat"]
        if stat not in BASIC and parse_extended(stat) is None:
            raise errors.InvalidParameterValue(f"The value {stat} for parameter Metrics.member.1.MetricStat.Stat "
                                               f"is not supported.")
    else:
        for key in ("MetricName", "Namespace", "Period"):
            if key not in cfg:
                raise errors.MissingParameter(f"The parameter {key} is required.")
        has_stat, has_ext = "Statistic" in cfg, "ExtendedStatistic" in cfg
        if has_stat == has_ext:
            raise errors.InvalidParameterCombination(
                "Exactly one of the parameters Statistic and ExtendedStatistic must be specified.")
        if has_ext and parse_extended(cfg["ExtendedStatistic"]) is None:
            raise errors.InvalidParameterValue(
                f"The value {cfg['ExtendedStatistic']} for parameter ExtendedStatistic is not supported.")
        period = cfg["Period"]
    for key in ("EvaluationPeriods", "ComparisonOperator"):
        if key not in cfg:
            raise errors.MissingParameter(f"The parameter {key} is required.")
    if cfg["ComparisonOperator"] not in OPERATORS or "ThresholdMetricId" in cfg:
        raise NotImplementedByBackend("cloudwatch", "PutMetricAlarm on an anomaly detection band")
    if "Threshold" not in cfg:
        raise errors.MissingParameter("The parameter Threshold is required.")
    if period not in (10, 20, 30) and period % 60:
        raise errors.ValidationError("The parameter Period must be 10, 20, 30 or a multiple of 60.")
    span = period * cfg["EvaluationPeriods"]
    if period < 3600 and span > 86400:
        raise errors.ValidationError(
            "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400).")
    if span > 7 * 86400:
        raise errors.ValidationError(
            "Metrics cannot be checked across more than 7 days (EvaluationPeriods * Period must be <= 604800).")
    m = cfg.get("DatapointsToAlarm")
    if m is not None and m > cfg["EvaluationPeriods"]:
        raise errors.ValidationError(
            "DatapointsToAlarm must be less than or equal to EvaluationPeriods.")
    treat = cfg.get("TreatMissingData")
    if treat is not None and treat not in TREAT_MISSING:
        raise errors.ValidationError(
            f"Option {treat} is not supported. Supported options for parameter TreatMissingData "
            f"are missing, ignore, breaching and notBreaching.")
    low = cfg.get("EvaluateLowSampleCountPercentile")
    if low is not None and low not in ("evaluate", "ignore"):
        raise errors.ValidationError(
            f"Option {low} is not supported. Supported options for parameter "
            f"EvaluateLowSampleCountPercentile are evaluate and ignore.")
    for key in ("OKActions", "AlarmActions", "InsufficientDataActions"):
        for arn in cfg.get(key, ()):
            if not arn.startswith("arn:"):
                raise errors.ValidationError(f"Invalid arn syntax: {arn}")


def _jsonable(alarm: dict) -> dict:
    """An alarm as AWS writes it inside history JSON (camelCase keys, ISO timestamps)."""
    def key(k: str) -> str:
        return "okActions" if k == "OKActions" else k[:1].lower() + k[1:]
    return {key(k): (iso(v.timestamp()) if hasattr(v, "timestamp") else v) for k, v in alarm.items()}
