"""SageMaker Feature Store control plane: feature groups and feature metadata.

A mixin of the ``sagemaker`` backend. Definitions live in the Feature Store database
shared with the ``sagemaker-featurestore-runtime`` backend
(:mod:`local_backends.featurestore_common`). As on AWS, creating a group with an offline
store registers its Glue table (database ``sagemaker_featurestore``, table
``<name>_<unixtime>``, unless ``DataCatalogConfig`` names one or
``DisableGlueTableCreation`` is set) and resolves its S3 folder to
``<S3Uri>/<account>/sagemaker/<region>/offline-store/<name>-<unixtime>/data``.

A new group is ``Creating`` when first described and ``Created`` from then on (AWS takes
a few seconds); botocore has no waiter for feature groups, so callers poll
``DescribeFeatureGroup`` as the SageMaker SDK does.
"""
from __future__ import annotations

import copy
import json
import logging
import time

from botocore.exceptions import ClientError

from local_backends.core.base import operation
from local_backends.core.errors import ResourceInUse, ResourceNotFound, ValidationException
from local_backends.core.state import encode_token, token_value
from local_backends.featurestore_common import (RESERVED_FEATURE_NAMES, FeatureGroupInfo,
                                                ensure_glue_table, feature_group_arn, open_store)
from local_backends.featurestore_common.groups import (default_table_name,
                                                       resolved_output_uri, utc)
from local_backends.featurestore_common.offline import DEFAULT_DATABASE, OfflineWriter

MAX_FEATURES = 2500
logger = logging.getLogger("aws_ml")


def _not_found(name: str) -> ResourceNotFound:
    return ResourceNotFound(f"Resource Not Found: Amazon SageMaker can't find a FeatureGroup "
                            f"with name {name}")


def _check_definitions(defs: list[dict], existing: dict[str, str] | None = None,
                       online_cfg: dict | None = None) -> None:
    """ValidationException for reserved, duplicated or unsupported feature definitions."""
    seen = dict(existing or {})
    in_memory = (online_cfg or {}).get("StorageType") == "InMemory"
    for d in defs:
        name = d["FeatureName"]
        if name in RESERVED_FEATURE_NAMES:
            raise ValidationException(
                f"1 validation error detected: FeatureName '{name}' is a reserved name; "
                f"feature names cannot be any of {list(RESERVED_FEATURE_NAMES)}")
        if name.lower() in {n.lower() for n in seen}:
            raise ValidationException(
                f"Feature definitions must have unique feature names: "
                f"'{name}' is defined more than once")
        if d.get("CollectionType") and not in_memory:
            raise ValidationException(
                f"Feature '{name}': collection types are supported only by an online store "
                f"of StorageType InMemory")
        seen[name] = d["FeatureType"]
    if len(seen) > MAX_FEATURES:
        raise ValidationException(f"A feature group can have at most {MAX_FEATURES} features; "
                                  f"got {len(seen)}")


class FeatureGroups:
    """``CreateFeatureGroup``, ``DescribeFeatureGroup``, ``ListFeatureGroups``,
    ``UpdateFeatureGroup``, ``DeleteFeatureGroup``, ``DescribeFeatureMetadata`` and
    ``UpdateFeatureMetadata`` (mixed into the SageMaker backend)."""

    @property
    def _fs_store(self):
        store = self.__dict__.get("_featurestore_db")
        if store is None:
            store = self.__dict__["_featurestore_db"] = open_store(self.home, self.account_id,
                                                                   self.region)
        return store

    def _fs_row(self, name: str):
        row = self._fs_store.query_one("SELECT * FROM feature_groups WHERE name = ?", (name,))
        if row is None:
            raise _not_found(name)
        return row

    # -- feature groups --------------------------------------------------------------
    @operation
    def create_feature_group(self, FeatureGroupName: str, RecordIdentifierFeatureName: str,
                             EventTimeFeatureName: str, FeatureDefinitions: list,
                             OnlineStoreConfig: dict | None = None,
                             OfflineStoreConfig: dict | None = None,
                             ThroughputConfig: dict | None = None, RoleArn: str | None = None,
                             Description: str | None = None, Tags: list | None = None) -> dict:
        name = FeatureGroupName
        _check_definitions(FeatureDefinitions, online_cfg=OnlineStoreConfig)
        types = {d["FeatureName"]: d["FeatureType"] for d in FeatureDefinitions}
        if RecordIdentifierFeatureName not in types:
            raise ValidationException(
                f"The RecordIdentifierFeatureName '{RecordIdentifierFeatureName}' is not "
                f"present in FeatureDefinitions")
        if EventTimeFeatureName not in types:
            raise ValidationException(
                f"The EventTimeFeatureName '{EventTimeFeatureName}' is not present in "
                f"FeatureDefinitions")
        if types[RecordIdentifierFeatureName] not in ("String", "Integral"):
            raise ValidationException(
                f"The RecordIdentifierFeatureName '{RecordIdentifierFeatureName}' must be of "
                f"type String or Integral")
        if types[EventTimeFeatureName] not in ("String", "Fractional"):
            raise ValidationException(
                f"The EventTimeFeatureName '{EventTimeFeatureName}' must be of type String "
                f"(ISO-8601) or Fractional (seconds since the epoch)")
        online_on = bool((OnlineStoreConfig or {}).get("EnableOnlineStore"))
        if not online_on and OfflineStoreConfig is None:
            raise ValidationException("At least one of OnlineStoreConfig (with "
                                      "EnableOnlineStore) and OfflineStoreConfig must be given")
        if OfflineStoreConfig is not None and not RoleArn:
            raise ValidationException("RoleArn is required when OfflineStoreConfig is given")
        if (OfflineStoreConfig or {}).get("TableFormat") == "Iceberg":
            raise ValidationException("The local Feature Store writes the offline store in the "
                                      "Glue (Parquet) table format; TableFormat Iceberg is not "
                                      "supported")

        created = time.time()
        doc: dict = {
            "FeatureGroupArn": feature_group_arn(self.region, self.account_id, name),
            "FeatureGroupName": name,
            "RecordIdentifierFeatureName": RecordIdentifierFeatureName,
            "EventTimeFeatureName": EventTimeFeatureName,
            "FeatureDefinitions": copy.deepcopy(FeatureDefinitions),
            "CreationTime": created,
            "ThroughputConfig": {"ThroughputMode": (ThroughputConfig or {}).get("ThroughputMode", "OnDemand"),
                                 **{k: v for k, v in (ThroughputConfig or {}).items() if k != "ThroughputMode"}},
        }
        if OnlineStoreConfig is not None:
            doc["OnlineStoreConfig"] = copy.deepcopy(OnlineStoreConfig)
            doc["OnlineStoreConfig"].setdefault("EnableOnlineStore", False)
            if online_on:
                doc["OnlineStoreConfig"].setdefault("StorageType", "Standard")
        if OfflineStoreConfig is not None:
            offline = copy.deepcopy(OfflineStoreConfig)
            s3 = offline["S3StorageConfig"]
            s3["ResolvedOutputS3Uri"] = resolved_output_uri(s3["S3Uri"], self.account_id,
                                                            self.region, name, created)
            offline.setdefault("DisableGlueTableCreation", False)
            offline.setdefault("DataCatalogConfig", {
                "TableName": default_table_name(name, created),
                "Catalog": "AwsDataCatalog", "Database": DEFAULT_DATABASE})
            offline.setdefault("TableFormat", "Glue")
            doc["OfflineStoreConfig"] = offline
            doc["OfflineStoreStatus"] = {"Status": "Active"}
        if RoleArn:
            doc["RoleArn"] = RoleArn
        if Description:
            doc["Description"] = Description
        doc["_Tags"] = Tags or []
        doc["_FeatureMetadata"] = {}
        info = FeatureGroupInfo.from_describe(doc)

        with self._fs_store.transaction() as db:
            if db.execute("SELECT 1 FROM feature_groups WHERE name = ?", (name,)).fetchone():
                raise ResourceInUse(f"Resource Already Exists: FeatureGroup with name {name} "
                                    f"already exists. Choose a different name.")
            # The Glue table is registered before the group is committed: a Glue failure
            # leaves no group behind (its error propagates as AWS's CreateFailed would).
            if info.offline:
                ensure_glue_table(self.peers.client("glue"), info)
            db.execute("INSERT INTO feature_groups (name, generation, created, status, doc) "
                       "VALUES (?, ?, ?, 'Creating', ?)",
                       (name, info.generation, created, json.dumps(doc)))
        return {"FeatureGroupArn": doc["FeatureGroupArn"]}

    @staticmethod
    def _public(doc: dict, status: str) -> dict:
        out = {k: copy.deepcopy(v) for k, v in doc.items() if not k.startswith("_")}
        for key in ("CreationTime", "LastModifiedTime"):
            if key in out:
                out[key] = utc(out[key])
        out["FeatureGroupStatus"] = status
        out["NextToken"] = ""  # required by the model: the definitions fit in one page
        return out

    @operation
    def describe_feature_group(self, FeatureGroupName: str, NextToken: str | None = None) -> dict:
        row = self._fs_row(FeatureGroupName)
        status = row["status"]
        if status == "Creating":  # the first look sees Creating, as on AWS for a moment
            with self._fs_store.transaction() as db:
                db.execute("UPDATE feature_groups SET status = 'Created' WHERE name = ? "
                           "AND generation = ?", (FeatureGroupName, row["generation"]))
        doc = json.loads(row["doc"])
        out = self._public(doc, status)
        if out.get("OnlineStoreConfig", {}).get("EnableOnlineStore"):
            size = self._fs_store.query_one(
                "SELECT COALESCE(SUM(LENGTH(features) + LENGTH(record_id)), 0) FROM records "
                "WHERE generation = ?", (row["generation"],))[0]
            out["OnlineStoreTotalSizeBytes"] = size
        return out

    _SORT_KEYS = {
        "Name": lambda s: s["FeatureGroupName"],
        "FeatureGroupStatus": lambda s: s["FeatureGroupStatus"],
        "OfflineStoreStatus": lambda s: s.get("OfflineStoreStatus", {}).get("Status", ""),
        "CreationTime": lambda s: s["CreationTime"],
    }

    @operation
    def list_feature_groups(self, NameContains: str | None = None,
                            FeatureGroupStatusEquals: str | None = None,
                            OfflineStoreStatusEquals: str | None = None,
                            CreationTimeAfter=None, CreationTimeBefore=None,
                            SortOrder: str | None = None, SortBy: str | None = None,
                            MaxResults: int | None = None, NextToken: str | None = None) -> dict:
        start = 0
        if NextToken:
            start = token_value(NextToken, "i", int, ValidationException("Invalid pagination token"))
        summaries = []
        for row in self._fs_store.query("SELECT * FROM feature_groups"):
            doc = json.loads(row["doc"])
            s = {"FeatureGroupName": doc["FeatureGroupName"],
                 "FeatureGroupArn": doc["FeatureGroupArn"],
                 "CreationTime": utc(doc["CreationTime"]),
                 "FeatureGroupStatus": row["status"]}
            if "OfflineStoreStatus" in doc:
                s["OfflineStoreStatus"] = doc["OfflineStoreStatus"]
            if NameContains and NameContains.lower() not in s["FeatureGroupName"].lower():
                continue
            if FeatureGroupStatusEquals and s["FeatureGroupStatus"] != FeatureGroupStatusEquals:
                continue
            if OfflineStoreStatusEquals and s.get("OfflineStoreStatus", {}).get("Status") != OfflineStoreStatusEquals:
                continue
            if CreationTimeAfter is not None and not s["CreationTime"] > CreationTimeAfter:
                continue
            if CreationTimeBefore is not None and not s["CreationTime"] < CreationTimeBefore:
                continue
            summaries.append(s)
        summaries.sort(key=self._SORT_KEYS[SortBy or "CreationTime"],
                       reverse=(SortOrder or "Descending") == "Descending")
        limit = MaxResults or 10
        page = summaries[start:start + limit]
        out: dict = {"FeatureGroupSummaries": page}
        if start + limit < len(summaries):
            out["NextToken"] = encode_token({"i": start + limit})
        return out

    @operation
    def update_feature_group(self, FeatureGroupName: str, FeatureAdditions: list | None = None,
                             OnlineStoreConfig: dict | None = None,
                             ThroughputConfig: dict | None = None) -> dict:
        with self._fs_store.transaction() as db:
            row = db.execute("SELECT * FROM feature_groups WHERE name = ?",
                             (FeatureGroupName,)).fetchone()
            if row is None:
                raise _not_found(FeatureGroupName)
            doc = json.loads(row["doc"])
            if FeatureAdditions:
                existing = {d["FeatureName"]: d["FeatureType"] for d in doc["FeatureDefinitions"]}
                _check_definitions(FeatureAdditions, existing, doc.get("OnlineStoreConfig"))
                doc["FeatureDefinitions"].extend(copy.deepcopy(FeatureAdditions))
            if OnlineStoreConfig:
                if not doc.get("OnlineStoreConfig", {}).get("EnableOnlineStore"):
                    raise ValidationException(f"FeatureGroup {FeatureGroupName} has no "
                                              f"OnlineStore to update")
                doc["OnlineStoreConfig"].update(copy.deepcopy(OnlineStoreConfig))
            if ThroughputConfig:
                doc["ThroughputConfig"].update(ThroughputConfig)
            doc["LastModifiedTime"] = time.time()
            doc["LastUpdateStatus"] = {"Status": "Successful"}
            info = FeatureGroupInfo.from_describe(doc)
            if FeatureAdditions and info.offline and info.create_glue_table:
                self._add_glue_columns(info, FeatureAdditions)
            db.execute("UPDATE feature_groups SET doc = ? WHERE name = ?",
                       (json.dumps(doc), FeatureGroupName))
        return {"FeatureGroupArn": doc["FeatureGroupArn"]}

    def _add_glue_columns(self, info: FeatureGroupInfo, additions: list) -> None:
        """AWS adds new features to the offline store's Glue table as columns."""
        from local_backends.featurestore_common.offline import glue_table_input
        glue = self.peers.client("glue")
        if ensure_glue_table(glue, info):
            return
        table = glue_table_input(info)
        current = glue.get_table(DatabaseName=info.database, Name=info.table)["Table"]
        columns = list(current["StorageDescriptor"]["Columns"])
        known = {c["Name"] for c in columns}
        columns += [c for c in table["StorageDescriptor"]["Columns"] if c["Name"] not in known]
        table["StorageDescriptor"] = {**current["StorageDescriptor"], "Columns": columns}
        glue.update_table(DatabaseName=info.database, TableInput=table)

    @operation
    def delete_feature_group(self, FeatureGroupName: str) -> dict:
        row = self._fs_row(FeatureGroupName)
        info = FeatureGroupInfo.from_describe(json.loads(row["doc"]))
        # Rows already ingested reach the offline store before the group goes (AWS keeps
        # the offline store's data and Glue table after a delete). A delete succeeds on AWS
        # even when the offline store cannot be written: the rows are then lost, loudly.
        if info.offline:
            try:
                OfflineWriter(self._fs_store).flush(info, self.peers.client("s3"))
            except ClientError as err:
                logger.warning("aws_ml: feature group %s deleted with %d buffered offline "
                               "rows not written: %s", FeatureGroupName,
                               OfflineWriter(self._fs_store).pending(info.generation), err)
        with self._fs_store.transaction() as db:
            db.execute("DELETE FROM feature_groups WHERE name = ? AND generation = ?",
                       (FeatureGroupName, info.generation))
            db.execute("DELETE FROM records WHERE generation = ?", (info.generation,))
            db.execute("DELETE FROM offline_buffer WHERE generation = ?", (info.generation,))
        return {}

    # -- feature metadata ------------------------------------------------------------
    @operation
    def describe_feature_metadata(self, FeatureGroupName: str, FeatureName: str) -> dict:
        row = self._fs_row(FeatureGroupName)
        doc = json.loads(row["doc"])
        types = {d["FeatureName"]: d["FeatureType"] for d in doc["FeatureDefinitions"]}
        if FeatureName not in types:
            raise ResourceNotFound(f"Resource Not Found: Feature {FeatureName} does not exist "
                                   f"in FeatureGroup {FeatureGroupName}")
        meta = doc["_FeatureMetadata"].get(FeatureName, {})
        out = {"FeatureGroupArn": doc["FeatureGroupArn"], "FeatureGroupName": FeatureGroupName,
               "FeatureName": FeatureName, "FeatureType": types[FeatureName],
               "CreationTime": utc(meta.get("CreationTime", doc["CreationTime"])),
               "LastModifiedTime": utc(meta.get("LastModifiedTime", doc["CreationTime"])),
               "Parameters": [{"Key": k, "Value": v} for k, v in meta.get("Parameters", {}).items()]}
        if meta.get("Description"):
            out["Description"] = meta["Description"]
        return out

    @operation
    def update_feature_metadata(self, FeatureGroupName: str, FeatureName: str,
                                Description: str | None = None,
                                ParameterAdditions: list | None = None,
                                ParameterRemovals: list | None = None) -> dict:
        with self._fs_store.transaction() as db:
            row = db.execute("SELECT * FROM feature_groups WHERE name = ?",
                             (FeatureGroupName,)).fetchone()
            if row is None:
                raise _not_found(FeatureGroupName)
            doc = json.loads(row["doc"])
            if FeatureName not in {d["FeatureName"] for d in doc["FeatureDefinitions"]}:
                raise ResourceNotFound(f"Resource Not Found: Feature {FeatureName} does not "
                                       f"exist in FeatureGroup {FeatureGroupName}")
            meta = doc["_FeatureMetadata"].setdefault(
                FeatureName, {"CreationTime": doc["CreationTime"], "Parameters": {}})
            if Description is not None:
                meta["Description"] = Description
            for p in ParameterAdditions or []:
                meta["Parameters"][p["Key"]] = p["Value"]
            for key in ParameterRemovals or []:
                meta["Parameters"].pop(key, None)
            meta["LastModifiedTime"] = time.time()
            db.execute("UPDATE feature_groups SET doc = ? WHERE name = ?",
                       (json.dumps(doc), FeatureGroupName))
        return {}
