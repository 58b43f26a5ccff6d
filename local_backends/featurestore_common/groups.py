"""Feature-group definitions: what the runtime needs to know of a group."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

RESERVED_FEATURE_NAMES = ("is_deleted", "write_time", "api_invocation_time")
"""Columns the offline store adds to every row; no feature may be named so."""

TTL_SECONDS = {"Seconds": 1, "Minutes": 60, "Hours": 3600, "Days": 86400, "Weeks": 604800}


def feature_group_arn(region: str, account_id: str, name: str) -> str:
    """AWS writes the name in lower case in the ARN."""
    return f"arn:aws:sagemaker:{region}:{account_id}:feature-group/{name.lower()}"


def _epoch(value) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


@dataclass
class FeatureGroupInfo:
    """A feature group as the runtime uses it, read from a DescribeFeatureGroup document."""

    name: str
    arn: str
    generation: str
    record_id: str
    event_time: str
    types: dict[str, str]
    created: float
    online: bool
    offline: bool
    ttl_seconds: float | None = None
    resolved_uri: str | None = None
    database: str | None = None
    table: str | None = None
    create_glue_table: bool = True
    order: list[str] = field(default_factory=list)

    @classmethod
    def from_describe(cls, doc: dict) -> "FeatureGroupInfo":
        online_cfg = doc.get("OnlineStoreConfig") or {}
        offline_cfg = doc.get("OfflineStoreConfig")
        created = _epoch(doc["CreationTime"])
        ttl = online_cfg.get("TtlDuration")
        s3 = (offline_cfg or {}).get("S3StorageConfig") or {}
        catalog = (offline_cfg or {}).get("DataCatalogConfig") or {}
        defs = doc["FeatureDefinitions"]
        return cls(
            name=doc["FeatureGroupName"], arn=doc["FeatureGroupArn"],
            generation=f"{doc['FeatureGroupName']}-{created:.6f}",
            record_id=doc["RecordIdentifierFeatureName"], event_time=doc["EventTimeFeatureName"],
            types={d["FeatureName"]: d["FeatureType"] for d in defs},
            order=[d["FeatureName"] for d in defs],
            created=created,
            online=bool(online_cfg.get("EnableOnlineStore")),
            offline=offline_cfg is not None,
            ttl_seconds=TTL_SECONDS[ttl["Unit"]] * ttl["Value"] if ttl else None,
            resolved_uri=s3.get("ResolvedOutputS3Uri") or s3.get("S3Uri"),
            database=catalog.get("Database"), table=catalog.get("TableName"),
            create_glue_table=not (offline_cfg or {}).get("DisableGlueTableCreation", False),
        )

    @property
    def event_time_type(self) -> str:
        return self.types[self.event_time]


def creation_stamp(created: float) -> int:
    """The unix time AWS appends to offline-store folder and table names."""
    return int(created)


def resolved_output_uri(s3_uri: str, account_id: str, region: str, name: str, created: float) -> str:
    """``<S3Uri>/<account>/sagemaker/<region>/offline-store/<name>-<unixtime>/data`` (AWS's layout)."""
    return (f"{s3_uri.rstrip('/')}/{account_id}/sagemaker/{region}/offline-store/"
            f"{name}-{creation_stamp(created)}/data")


def default_table_name(name: str, created: float) -> str:
    """The Glue table AWS creates: the name in lower case, hyphens as underscores, plus the
    creation unix time."""
    return f"{name.lower().replace('-', '_')}_{creation_stamp(created)}"


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)
