"""Which feature group a runtime call names, read from the control plane.

The local control plane (the ``sagemaker`` backend's feature groups) writes definitions
into the shared Feature Store database, which the runtime reads directly (one indexed
query per call, the parsed definition cached while its document is unchanged). When
``sagemaker`` is served by another backend (moto), the runtime asks it with
``DescribeFeatureGroup`` through the session's client and keeps the answer.
"""
from __future__ import annotations

import json
import threading

from botocore.exceptions import ClientError

from local_backends.core.errors import AwsError, ResourceNotFound
from local_backends.featurestore_common import FeatureGroupInfo


def _name_of(name_or_arn: str) -> tuple[str, bool]:
    """(name, is_arn): ARNs carry the name in lower case after ``feature-group/``."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn.split(":feature-group/", 1)[-1], True
    return name_or_arn, False


class GroupResolver:
    """Feature-group definitions for the runtime (see the module docstring)."""

    def __init__(self, store, peers) -> None:
        self.store = store
        self.peers = peers
        self._local: dict[str, tuple[str, FeatureGroupInfo]] = {}
        self._remote: dict[str, FeatureGroupInfo] = {}
        self._lock = threading.Lock()

    def get(self, name_or_arn: str) -> FeatureGroupInfo:
        name, is_arn = _name_of(name_or_arn)
        if is_arn:
            row = self.store.query_one("SELECT name, doc FROM feature_groups WHERE lower(name) = ?",
                                       (name.lower(),))
        else:
            row = self.store.query_one("SELECT name, doc FROM feature_groups WHERE name = ?", (name,))
        if row is not None:
            cached = self._local.get(row["name"])
            if cached is not None and cached[0] == row["doc"]:
                return cached[1]
            info = FeatureGroupInfo.from_describe(json.loads(row["doc"]))
            self._local[row["name"]] = (row["doc"], info)
            return info
        return self._remote_group(name_or_arn)

    def _remote_group(self, name_or_arn: str) -> FeatureGroupInfo:
        if self.peers.local("sagemaker") is not None:  # the local control plane: it is absent
            raise ResourceNotFound(f"Resource Not Found: Amazon SageMaker can't find a "
                                   f"FeatureGroup with name {name_or_arn}")
        info = self._remote.get(name_or_arn)
        if info is not None:
            return info
        try:
            doc = self.peers.client("sagemaker").describe_feature_group(FeatureGroupName=name_or_arn)
        except KeyError:
            # moto in process answers DescribeFeatureGroup of an unknown group with its own
            # KeyError (a lookup in its dict of groups) instead of ResourceNotFound.
            raise ResourceNotFound(f"Resource Not Found: Amazon SageMaker can't find a "
                                   f"FeatureGroup with name {name_or_arn}") from None
        except ClientError as err:
            error = err.response.get("Error", {})
            if error.get("Code") == "ResourceNotFound":
                raise ResourceNotFound(error.get("Message", "")) from None
            raise AwsError(error.get("Message", str(err)), code=error.get("Code"),
                           status=err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")) from None
        if "OnlineStoreConfig" not in doc:
            # moto does not keep OnlineStoreConfig: serve an online store for its groups.
            doc = {**doc, "OnlineStoreConfig": {"EnableOnlineStore": True}}
        info = FeatureGroupInfo.from_describe(doc)
        with self._lock:
            self._remote[name_or_arn] = info
        return info

    def by_generation(self, generation: str) -> FeatureGroupInfo | None:
        """The group a buffered offline row belongs to (None once it is deleted)."""
        row = self.store.query_one("SELECT doc FROM feature_groups WHERE generation = ?",
                                   (generation,))
        if row is not None:
            return FeatureGroupInfo.from_describe(json.loads(row["doc"]))
        for info in list(self._remote.values()):
            if info.generation == generation:
                return info
        return None
