"""``AWS::CloudWatch::Alarm`` (metric alarms, PutMetricAlarm)."""
from __future__ import annotations

from .base import Provisioned, ResourceType, bool_prop, tag_list

PASSTHROUGH = ("AlarmDescription", "AlarmActions", "OKActions", "InsufficientDataActions",
               "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Unit",
               "ComparisonOperator", "TreatMissingData", "EvaluateLowSampleCountPercentile",
               "ThresholdMetricId")
INTEGERS = ("Period", "EvaluationPeriods", "DatapointsToAlarm")


def metric_query(query: dict) -> dict:
    out = {k: query[k] for k in ("Id", "Expression", "Label", "ReturnData", "AccountId") if k in query}
    if "Period" in query:
        out["Period"] = int(query["Period"])
    if "MetricStat" in query:
        stat = query["MetricStat"]
        metric = stat["Metric"]
        out["MetricStat"] = {"Metric": {k: metric[k] for k in ("Namespace", "MetricName", "Dimensions")
                                        if k in metric},
                             "Period": int(stat["Period"]), "Stat": stat["Stat"]}
        if "Unit" in stat:
            out["MetricStat"]["Unit"] = stat["Unit"]
    return out


class Alarm(ResourceType):
    """A metric alarm; ``Ref`` is its name."""

    type_name = "AWS::CloudWatch::Alarm"
    name_property = "AlarmName"
    required = ("ComparisonOperator", "EvaluationPeriods")

    def _put(self, name: str, props: dict) -> Provisioned:
        self.check(props)
        kwargs = {k: props[k] for k in PASSTHROUGH if k in props}
        kwargs.update({k: int(props[k]) for k in INTEGERS if k in props})
        kwargs["AlarmName"] = name
        if "Threshold" in props:
            kwargs["Threshold"] = float(props["Threshold"])
        if "ActionsEnabled" in props:
            kwargs["ActionsEnabled"] = bool_prop(props["ActionsEnabled"])
        if "Dimensions" in props:
            kwargs["Dimensions"] = [{"Name": d["Name"], "Value": str(d["Value"])} for d in props["Dimensions"]]
        if "Metrics" in props:
            kwargs["Metrics"] = [metric_query(q) for q in props["Metrics"]]
        if props.get("Tags"):
            kwargs["Tags"] = tag_list(props)
        cloudwatch = self.ctx.client("cloudwatch")
        cloudwatch.put_metric_alarm(**kwargs)
        arn = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"]
        return Provisioned(name, {"Arn": arn})

    def create(self, props: dict) -> Provisioned:
        return self._put(props.get("AlarmName") or self.ctx.generated_name(255), props)

    def update(self, physical_id: str, old: dict, new: dict) -> Provisioned:
        return self._put(physical_id, new)

    def delete(self, physical_id: str, props: dict) -> None:
        self.ctx.client("cloudwatch").delete_alarms(AlarmNames=[physical_id])
