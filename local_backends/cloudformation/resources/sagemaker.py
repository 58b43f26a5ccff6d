"""SageMaker resources: ``FeatureGroup``, ``Model``, ``EndpointConfig``, ``Endpoint``.

Feature groups and endpoints are created asynchronously by SageMaker; the resource is
complete when the feature group is ``Created`` / the endpoint ``InService``, and fails with
SageMaker's ``FailureReason`` otherwise, as in CloudFormation.
"""
from __future__ import annotations

from botocore.exceptions import ClientError

from .base import Provisioned, ResourceType, bool_prop, drop_none, tag_list


def _missing(err: ClientError) -> bool:
    return err.response["Error"]["Code"] in ("ResourceNotFound", "ValidationException") and \
        ("not found" in err.response["Error"].get("Message", "").lower()
         or "could not find" in err.response["Error"].get("Message", "").lower()
         or err.response["Error"]["Code"] == "ResourceNotFound")


class FeatureGroup(ResourceType):
    """A feature group; ``Ref`` is its name. Every property replaces it except
    ``FeatureDefinitions`` additions, ``ThroughputConfig`` and ``Description`` changes."""

    type_name = "AWS::SageMaker::FeatureGroup"
    name_property = "FeatureGroupName"
    replace_on = frozenset({"RecordIdentifierFeatureName", "EventTimeFeatureName", "OnlineStoreConfig",
                            "OfflineStoreConfig", "RoleArn", "Tags", "Description"})
    required = ("FeatureGroupName", "RecordIdentifierFeatureName", "EventTimeFeatureName",
                "FeatureDefinitions")

    def _online(self, config: dict) -> dict:
        out = dict(config)
        if "EnableOnlineStore" in out:
            out["EnableOnlineStore"] = bool_prop(out["EnableOnlineStore"])
        if "TtlDuration" in out:
            out["TtlDuration"] = {"Unit": out["TtlDuration"]["Unit"], "Value": int(out["TtlDuration"]["Value"])}
        return out

    def _offline(self, config: dict) -> dict:
        out = dict(config)
        if "DisableGlueTableCreation" in out:
            out["DisableGlueTableCreation"] = bool_prop(out["DisableGlueTableCreation"])
        return out

    def _provisioned(self, described: dict) -> Provisioned:
        return Provisioned(described["FeatureGroupName"], {
            "CreationTime": described["CreationTime"].isoformat(),
            "FeatureGroupStatus": described["FeatureGroupStatus"],
            "FeatureGroupArn": described["FeatureGroupArn"]})

    def create(self, props: dict) -> Provisioned:
        self.check(props)
        sagemaker = self.ctx.client("sagemaker")
        name = props["FeatureGroupName"]
        kwargs = drop_none({
            "FeatureGroupName": name,
            "RecordIdentifierFeatureName": props["RecordIdentifierFeatureName"],
            "EventTimeFeatureName": props["EventTimeFeatureName"],
            "FeatureDefinitions": [drop_none({"FeatureName": f["FeatureName"], "FeatureType": f["FeatureType"],
                                              "CollectionType": f.get("CollectionType"),
                                              "CollectionConfig": f.get("CollectionConfig")})
                                   for f in props["FeatureDefinitions"]],
            "OnlineStoreConfig": self._online(props["OnlineStoreConfig"]) if "OnlineStoreConfig" in props else None,
            "OfflineStoreConfig": self._offline(props["OfflineStoreConfig"]) if "OfflineStoreConfig" in props else None,
            "ThroughputConfig": props.get("ThroughputConfig"),
            "RoleArn": props.get("RoleArn"),
            "Description": props.get("Description"),
            "Tags": tag_list(props) or None,
        })
        sagemaker.create_feature_group(**kwargs)
        try:
            described = self.ctx.wait_for(lambda: sagemaker.describe_feature_group(FeatureGroupName=name),
                                          "FeatureGroupStatus", {"Created"}, {"CreateFailed"},
                                          f"Feature group {name}")
        except Exception:
            self.delete(name, props)
            raise
        return self._provisioned(described)

    def update(self, physical_id: str, old: dict, new: dict) -> Provisioned:
        sagemaker = self.ctx.client("sagemaker")
        old_names = [f["FeatureName"] for f in old["FeatureDefinitions"]]
        new_defs = new["FeatureDefinitions"]
        if [f["FeatureName"] for f in new_defs[:len(old_names)]] != old_names or \
                new_defs[:len(old_names)] != old["FeatureDefinitions"]:
            from .base import NeedsReplacement
            raise NeedsReplacement()
        kwargs = {}
        if len(new_defs) > len(old_names):
            kwargs["FeatureAdditions"] = [{"FeatureName": f["FeatureName"], "FeatureType": f["FeatureType"]}
                                          for f in new_defs[len(old_names):]]
        if old.get("ThroughputConfig") != new.get("ThroughputConfig") and new.get("ThroughputConfig"):
            kwargs["ThroughputConfig"] = new["ThroughputConfig"]
        if kwargs:
            sagemaker.update_feature_group(FeatureGroupName=physical_id, **kwargs)
        return self._provisioned(sagemaker.describe_feature_group(FeatureGroupName=physical_id))

    def delete(self, physical_id: str, props: dict) -> None:
        sagemaker = self.ctx.client("sagemaker")
        try:
            sagemaker.delete_feature_group(FeatureGroupName=physical_id)
        except ClientError as err:
            if not _missing(err):
                raise
            return
        def describe() -> dict:
            try:
                return sagemaker.describe_feature_group(FeatureGroupName=physical_id)
            except ClientError as err:
                if _missing(err):
                    return {"FeatureGroupStatus": "Deleted"}
                raise
        self.ctx.wait_for(describe, "FeatureGroupStatus", {"Deleted"}, {"DeleteFailed"},
                          f"Feature group {physical_id}")


class Model(ResourceType):
    """A model; ``Ref`` is its ARN, ``ModelName`` an attribute. Any change replaces it."""

    type_name = "AWS::SageMaker::Model"
    name_property = "ModelName"
    KEYS = ("PrimaryContainer", "Containers", "InferenceExecutionConfig", "VpcConfig",
            "EnableNetworkIsolation")

    def requires_replacement(self, old: dict, new: dict) -> bool:
        return True

    def create(self, props: dict) -> Provisioned:
        name = props.get("ModelName") or self.ctx.generated_name(63)
        kwargs = {k: props[k] for k in self.KEYS if k in props}
        if "EnableNetworkIsolation" in kwargs:
            kwargs["EnableNetworkIsolation"] = bool_prop(kwargs["EnableNetworkIsolation"])
        if "ExecutionRoleArn" in props:
            kwargs["ExecutionRoleArn"] = props["ExecutionRoleArn"]
        if props.get("Tags"):
            kwargs["Tags"] = tag_list(props)
        arn = self.ctx.client("sagemaker").create_model(ModelName=name, **kwargs)["ModelArn"]
        return Provisioned(arn, {"ModelName": name})

    def delete(self, physical_id: str, props: dict) -> None:
        try:
            self.ctx.client("sagemaker").delete_model(ModelName=physical_id.rsplit("/", 1)[-1])
        except ClientError as err:
            if not _missing(err):
                raise


class EndpointConfig(ResourceType):
    """An endpoint configuration; ``Ref`` is its ARN. Any change replaces it."""

    type_name = "AWS::SageMaker::EndpointConfig"
    name_property = "EndpointConfigName"
    required = ("ProductionVariants",)
    KEYS = ("ProductionVariants", "DataCaptureConfig", "KmsKeyId", "AsyncInferenceConfig",
            "ExplainerConfig", "ShadowProductionVariants", "ExecutionRoleArn")

    def requires_replacement(self, old: dict, new: dict) -> bool:
        return True

    def create(self, props: dict) -> Provisioned:
        self.check(props)
        name = props.get("EndpointConfigName") or self.ctx.generated_name(63)
        kwargs = {k: props[k] for k in self.KEYS if k in props}
        for variant in kwargs["ProductionVariants"]:
            for key in ("InitialInstanceCount",):
                if key in variant:
                    variant[key] = int(variant[key])
            if "InitialVariantWeight" in variant:
                variant["InitialVariantWeight"] = float(variant["InitialVariantWeight"])
        if "DataCaptureConfig" in kwargs:
            capture = dict(kwargs["DataCaptureConfig"])
            capture["InitialSamplingPercentage"] = int(capture["InitialSamplingPercentage"])
            if "EnableCapture" in capture:
                capture["EnableCapture"] = bool_prop(capture["EnableCapture"])
            kwargs["DataCaptureConfig"] = capture
        if props.get("Tags"):
            kwargs["Tags"] = tag_list(props)
        arn = self.ctx.client("sagemaker").create_endpoint_config(EndpointConfigName=name,
                                                                  **kwargs)["EndpointConfigArn"]
        return Provisioned(arn, {"EndpointConfigName": name})

    def delete(self, physical_id: str, props: dict) -> None:
        try:
            self.ctx.client("sagemaker").delete_endpoint_config(
                EndpointConfigName=physical_id.rsplit("/", 1)[-1])
        except ClientError as err:
            if not _missing(err):
                raise


class Endpoint(ResourceType):
    """An endpoint; ``Ref`` is its ARN. A new ``EndpointConfigName`` updates it in place."""

    type_name = "AWS::SageMaker::Endpoint"
    name_property = "EndpointName"
    required = ("EndpointConfigName",)

    def _wait(self, name: str) -> dict:
        sagemaker = self.ctx.client("sagemaker")
        return self.ctx.wait_for(lambda: sagemaker.describe_endpoint(EndpointName=name), "EndpointStatus",
                                 {"InService"}, {"Failed", "OutOfService"}, f"Endpoint {name}")

    def create(self, props: dict) -> Provisioned:
        self.check(props)
        name = props.get("EndpointName") or self.ctx.generated_name(63)
        kwargs = {"EndpointName": name, "EndpointConfigName": props["EndpointConfigName"]}
        if props.get("Tags"):
            kwargs["Tags"] = tag_list(props)
        arn = self.ctx.client("sagemaker").create_endpoint(**kwargs)["EndpointArn"]
        try:
            self._wait(name)
        except Exception:
            self.delete(arn, props)
            raise
        return Provisioned(arn, {"EndpointName": name})

    def update(self, physical_id: str, old: dict, new: dict) -> Provisioned:
        name = physical_id.rsplit("/", 1)[-1]
        if old.get("EndpointConfigName") != new.get("EndpointConfigName"):
            self.ctx.client("sagemaker").update_endpoint(EndpointName=name,
                                                         EndpointConfigName=new["EndpointConfigName"])
            self._wait(name)
        return Provisioned(physical_id, {"EndpointName": name})

    def delete(self, physical_id: str, props: dict) -> None:
        sagemaker = self.ctx.client("sagemaker")
        name = physical_id.rsplit("/", 1)[-1]
        try:
            sagemaker.delete_endpoint(EndpointName=name)
        except ClientError as err:
            if not _missing(err):
                raise
