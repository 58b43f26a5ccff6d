"""``AWS::Athena::WorkGroup``."""
from __future__ import annotations

from botocore.exceptions import ClientError

from .base import Provisioned, ResourceFailed, ResourceType, bool_prop, tag_list

BOOLEANS = ("EnforceWorkGroupConfiguration", "PublishCloudWatchMetricsEnabled", "RequesterPaysEnabled")


def configuration(given: dict) -> dict:
    out = {k: v for k, v in given.items() if k not in BOOLEANS + ("BytesScannedCutoffPerQuery",)}
    out.update({k: bool_prop(given[k]) for k in BOOLEANS if k in given})
    if "BytesScannedCutoffPerQuery" in given:
        out["BytesScannedCutoffPerQuery"] = int(given["BytesScannedCutoffPerQuery"])
    if "EngineVersion" in given:
        out["EngineVersion"] = {"SelectedEngineVersion": given["EngineVersion"].get("SelectedEngineVersion", "AUTO")}
    return out


class WorkGroup(ResourceType):
    """An Athena workgroup; ``Ref`` is its name."""

    type_name = "AWS::Athena::WorkGroup"
    name_property = "Name"
    required = ("Name",)

    def _provisioned(self, name: str) -> Provisioned:
        group = self.ctx.client("athena").get_work_group(WorkGroup=name)["WorkGroup"]
        engine = group.get("Configuration", {}).get("EngineVersion", {})
        return Provisioned(name, {
            "CreationTime": group["CreationTime"].isoformat(),
            "WorkGroupConfiguration.EngineVersion.EffectiveEngineVersion":
                engine.get("EffectiveEngineVersion", "Athena engine version 3")})

    def create(self, props: dict) -> Provisioned:
        self.check(props)
        kwargs = {"Name": props["Name"]}
        if "Description" in props:
            kwargs["Description"] = props["Description"]
        if "WorkGroupConfiguration" in props:
            kwargs["Configuration"] = configuration(props["WorkGroupConfiguration"])
        if props.get("Tags"):
            kwargs["Tags"] = tag_list(props)
        athena = self.ctx.client("athena")
        athena.create_work_group(**kwargs)
        if props.get("State") == "DISABLED":
            athena.update_work_group(WorkGroup=props["Name"], State="DISABLED")
        return self._provisioned(props["Name"])

    def update(self, physical_id: str, old: dict, new: dict) -> Provisioned:
        kwargs = {"WorkGroup": physical_id, "Description": new.get("Description", ""),
                  "State": new.get("State", "ENABLED")}
        if old.get("WorkGroupConfiguration") != new.get("WorkGroupConfiguration"):
            config = configuration(new.get("WorkGroupConfiguration", {}))
            updates = {k: v for k, v in config.items() if k != "ResultConfiguration"}
            if "ResultConfiguration" in config:
                updates["ResultConfigurationUpdates"] = config["ResultConfiguration"]
            else:
                updates["ResultConfigurationUpdates"] = {"RemoveOutputLocation": True}
            kwargs["ConfigurationUpdates"] = updates
        if old.get("Tags") != new.get("Tags"):
            raise ResourceFailed("Changing the tags of an Athena workgroup is not supported by the local "
                                 "CloudFormation engine")
        self.ctx.client("athena").update_work_group(**kwargs)
        return self._provisioned(physical_id)

    def delete(self, physical_id: str, props: dict) -> None:
        try:
            self.ctx.client("athena").delete_work_group(
                WorkGroup=physical_id, RecursiveDeleteOption=bool_prop(props.get("RecursiveDeleteOption", False)))
        except ClientError as err:
            if err.response["Error"]["Code"] != "InvalidRequestException" or \
                    "not found" not in err.response["Error"].get("Message", "").lower():
                raise
