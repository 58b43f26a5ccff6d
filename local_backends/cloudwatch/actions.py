"""What an alarm does when its state changes: its actions (SNS notifications).

``_fire_actions`` publishes, for each ``arn:aws:sns:...`` action of the new state, the JSON
notification AWS sends, through the session's SNS client. While no SNS backend is there to
serve it (no local SNS yet), the notification is kept in the alarm's history as a pending
``Action`` item instead, and nothing fails.
"""
from __future__ import annotations

import json

from botocore.exceptions import ClientError

from local_backends.core.errors import NotImplementedByBackend

from .times import iso, now

REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)", "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)", "eu-west-2": "EU (London)", "eu-west-3": "EU (Paris)",
    "eu-central-1": "EU (Frankfurt)", "eu-north-1": "EU (Stockholm)",
    "ap-northeast-1": "Asia Pacific (Tokyo)", "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)", "ap-south-1": "Asia Pacific (Mumbai)",
    "ca-central-1": "Canada (Central)", "sa-east-1": "South America (Sao Paulo)",
}
_ACTIONS_OF = {"ALARM": "AlarmActions", "OK": "OKActions", "INSUFFICIENT_DATA": "InsufficientDataActions"}


def notification(alarm: dict, old: str, region: str, account_id: str) -> dict:
    """The message AWS publishes to an SNS topic when an alarm changes state."""
    trigger = {
        "MetricName": alarm.get("MetricName"),
        "Namespace": alarm.get("Namespace"),
        "StatisticType": "ExtendedStatistic" if alarm.get("ExtendedStatistic") else "Statistic",
        "Statistic": (alarm.get("Statistic") or "").upper() or None,
        "Unit": alarm.get("Unit"),
        "Dimensions": [{"value": d["Value"], "name": d["Name"]} for d in alarm.get("Dimensions", [])],
        "Period": alarm.get("Period"),
        "EvaluationPeriods": alarm.get("EvaluationPeriods"),
        "DatapointsToAlarm": alarm.get("DatapointsToAlarm", alarm.get("EvaluationPeriods")),
        "ComparisonOperator": alarm.get("ComparisonOperator"),
        "Threshold": alarm.get("Threshold"),
        "TreatMissingData": alarm.get("TreatMissingData", "missing"),
        "EvaluateLowSampleCountPercentile": alarm.get("EvaluateLowSampleCountPercentile", ""),
    }
    if alarm.get("ExtendedStatistic"):
        trigger["ExtendedStatistic"] = alarm["ExtendedStatistic"]
        del trigger["Statistic"]
    return {
        "AlarmName": alarm["AlarmName"],
        "AlarmDescription": alarm.get("AlarmDescription"),
        "AWSAccountId": account_id,
        "AlarmConfigurationUpdatedTimestamp": iso(alarm["AlarmConfigurationUpdatedTimestamp"].timestamp()),
        "NewStateValue": alarm["StateValue"],
        "NewStateReason": alarm["StateReason"],
        "StateChangeTime": iso(alarm["StateUpdatedTimestamp"].timestamp()),
        "Region": REGION_NAMES.get(region, region),
        "AlarmArn": alarm["AlarmArn"],
        "OldStateValue": old,
        "OKActions": alarm["OKActions"],
        "AlarmActions": alarm["AlarmActions"],
        "InsufficientDataActions": alarm["InsufficientDataActions"],
        "Trigger": trigger,
    }


class Actions:
    """Alarm actions (mixed into :class:`local_backends.cloudwatch.CloudWatchBackend`)."""

    def _sns_client(self):
        """The SNS client to publish with, or ``None`` while no backend serves SNS.

        SNS routed to moto, LocalStack or AWS: their client. Routed to local: the same
        client once a local SNS backend is registered; until then ``None``."""
        try:
            self.peers.local("sns")  # None when routed elsewhere; raises if local has no SNS
        except NotImplementedByBackend:
            return None
        return self.peers.client("sns")

    def _fire_actions(self, alarm: dict, old: str, new: str) -> None:
        """Run the actions of ``alarm`` for its change from ``old`` to ``new``."""
        if not alarm["ActionsEnabled"]:
            return
        for arn in alarm.get(_ACTIONS_OF[new], []):
            message = notification(alarm, old, self.region, self.account_id)
            subject = f'{new}: "{alarm["AlarmName"]}" in {REGION_NAMES.get(self.region, self.region)}'
            data = {"actionState": "Succeeded", "stateUpdateTimestamp": int(now() * 1000),
                    "notificationResource": arn, "publishedMessage": message}
            if not arn.startswith("arn:aws:sns:"):
                data["actionState"] = "Failed"
                data["error"] = "this kind of alarm action is not run by the local backend"
                self._record_action(alarm["AlarmName"], f"Failed to execute action {arn}", data)
                continue
            client = self._sns_client()
            if client is None:
                data["actionState"] = "Pending"
                self._record_action(
                    alarm["AlarmName"],
                    f"Pending action {arn}: no SNS backend is available, notification kept here", data)
                continue
            try:
                client.publish(TopicArn=arn, Subject=subject[:100], Message=json.dumps(message))
            except ClientError as err:
                data["actionState"] = "Failed"
                data["error"] = str(err)
                self._record_action(alarm["AlarmName"],
                                    f"Failed to execute action {arn}. Received error: "
                                    f"{err.response['Error'].get('Message', '')}", data)
            else:
                self._record_action(alarm["AlarmName"], f"Successfully executed action {arn}", data)

    def _record_action(self, name: str, summary: str, data: dict) -> None:
        with self.store.transaction() as db:
            self._history(db, name, now(), "Action", summary, data)
