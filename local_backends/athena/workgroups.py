"""Athena workgroups (with their enforced result location) and named queries."""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone

from local_backends.core.base import operation
from local_backends.core.state import encode_token, token_value

from .errors import InvalidRequestException

PRIMARY = "primary"
ENGINE_VERSION = {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"}


def utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)


def _page(token: str | None) -> int:
    if token is None:
        return 0
    return token_value(token, "offset", int, InvalidRequestException("Invalid NextToken"))


def paged(items: list, token: str | None, limit: int) -> tuple[list, str | None]:
    """One page of ``items`` and the token of the next one."""
    start = _page(token)
    page = items[start:start + limit]
    return page, encode_token({"offset": start + limit}) if start + limit < len(items) else None


def default_configuration(config: dict | None) -> dict:
    out = {"EnforceWorkGroupConfiguration": True, "PublishCloudWatchMetricsEnabled": True,
           "RequesterPaysEnabled": False, "EngineVersion": dict(ENGINE_VERSION)}
    out.update(config or {})
    if "EngineVersion" in (config or {}):
        out["EngineVersion"] = dict(ENGINE_VERSION, **config["EngineVersion"])
    return out


class WorkGroupsMixin:
    """``CreateWorkGroup`` ... ``DeleteWorkGroup`` and the named-query operations."""

    def _ensure_primary(self) -> None:
        with self.store.transaction() as db:
            db.execute("INSERT OR IGNORE INTO workgroups (name, state, description, configuration, created) "
                       "VALUES (?, 'ENABLED', '', ?, ?)",
                       (PRIMARY, json.dumps(default_configuration({"EnforceWorkGroupConfiguration": False})),
                        time.time()))

    def workgroup(self, name: str) -> dict:
        """The stored workgroup ``name`` (``InvalidRequestException`` if there is none)."""
        row = self.store.query_one("SELECT * FROM workgroups WHERE name = ?", (name,))
        if row is None:
            raise InvalidRequestException(f"WorkGroup {name} is not found.")
        return {"Name": row["name"], "State": row["state"], "Description": row["description"] or "",
                "Configuration": json.loads(row["configuration"]), "CreationTime": utc(row["created"])}

    @operation
    def create_work_group(self, Name: str, Configuration: dict | None = None,
                          Description: str | None = None, Tags: list | None = None) -> dict:
        with self.store.transaction() as db:
            if db.execute("SELECT 1 FROM workgroups WHERE name = ?", (Name,)).fetchone():
                raise InvalidRequestException("WorkGroup is already created")
            db.execute("INSERT INTO workgroups (name, state, description, configuration, created) "
                       "VALUES (?, 'ENABLED', ?, ?, ?)",
                       (Name, Description or "", json.dumps(default_configuration(Configuration)), time.time()))
        return {}

    @operation
    def get_work_group(self, WorkGroup: str) -> dict:
        return {"WorkGroup": self.workgroup(WorkGroup)}

    @operation
    def list_work_groups(self, NextToken: str | None = None, MaxResults: int | None = None) -> dict:
        rows = self.store.query("SELECT * FROM workgroups ORDER BY name")
        items = [{"Name": r["name"], "State": r["state"], "Description": r["description"] or "",
                  "CreationTime": utc(r["created"]),
                  "EngineVersion": json.loads(r["configuration"]).get("EngineVersion", ENGINE_VERSION)}
                 for r in rows]
        page, token = paged(items, NextToken, MaxResults or 50)
        return {"WorkGroups": page, **({"NextToken": token} if token else {})}

    @operation
    def update_work_group(self, WorkGroup: str, Description: str | None = None,
                          ConfigurationUpdates: dict | None = None, State: str | None = None) -> dict:
        with self.store.transaction() as db:
            current = self.workgroup(WorkGroup)
            config = current["Configuration"]
            updates = dict(ConfigurationUpdates or {})
            result_updates = updates.pop("ResultConfigurationUpdates", None) or {}
            result = dict(config.get("ResultConfiguration") or {})
            for member in ("OutputLocation", "EncryptionConfiguration", "ExpectedBucketOwner",
                           "AclConfiguration"):
                if result_updates.get(f"Remove{member}"):
                    result.pop(member, None)
                elif member in result_updates:
                    result[member] = result_updates[member]
            if result_updates:
                config["ResultConfiguration"] = result
            if updates.pop("RemoveBytesScannedCutoffPerQuery", False):
                config.pop("BytesScannedCutoffPerQuery", None)
            for key, value in updates.items():
                if not key.startswith("Remove"):
                    config[key] = value
            db.execute("UPDATE workgroups SET description = ?, state = ?, configuration = ? WHERE name = ?",
                       (Description if Description is not None else current["Description"],
                        State or current["State"], json.dumps(config), WorkGroup))
        return {}

    @operation
    def delete_work_group(self, WorkGroup: str, RecursiveDeleteOption: bool | None = None) -> dict:
        if WorkGroup == PRIMARY:
            raise InvalidRequestException("Primary WorkGroup cannot be deleted")
        with self.store.transaction() as db:
            self.workgroup(WorkGroup)
            if not RecursiveDeleteOption and db.execute(
                    "SELECT 1 FROM named_queries WHERE workgroup = ?", (WorkGroup,)).fetchone():
                raise InvalidRequestException(f"WorkGroup {WorkGroup} is not empty")
            db.execute("DELETE FROM named_queries WHERE workgroup = ?", (WorkGroup,))
            db.execute("DELETE FROM workgroups WHERE name = ?", (WorkGroup,))
        return {}

    # -- named queries ------------------------------------------------------------------
    def _named_query(self, row) -> dict:
        out = {"Name": row["name"], "Database": row["database"], "QueryString": row["query"],
               "NamedQueryId": row["id"], "WorkGroup": row["workgroup"]}
        if row["description"]:
            out["Description"] = row["description"]
        return out

    @operation
    def create_named_query(self, Name: str, Database: str, QueryString: str,
                           Description: str | None = None, ClientRequestToken: str | None = None,
                           WorkGroup: str | None = None) -> dict:
        workgroup = WorkGroup or PRIMARY
        self.workgroup(workgroup)
        with self.store.transaction() as db:
            if ClientRequestToken:
                row = db.execute("SELECT id FROM named_queries WHERE client_token = ?",
                                 (ClientRequestToken,)).fetchone()
                if row:
                    return {"NamedQueryId": row["id"]}
            query_id = str(uuid.uuid4())
            db.execute("INSERT INTO named_queries (id, name, description, database, query, workgroup, "
                       "client_token, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (query_id, Name, Description, Database, QueryString, workgroup,
                        ClientRequestToken, time.time()))
        return {"NamedQueryId": query_id}

    @operation
    def get_named_query(self, NamedQueryId: str) -> dict:
        row = self.store.query_one("SELECT * FROM named_queries WHERE id = ?", (NamedQueryId,))
        if row is None:
            raise InvalidRequestException(f"NamedQuery {NamedQueryId} was not found")
        return {"NamedQuery": self._named_query(row)}

    @operation
    def batch_get_named_query(self, NamedQueryIds: list) -> dict:
        found, missing = [], []
        for query_id in NamedQueryIds:
            row = self.store.query_one("SELECT * FROM named_queries WHERE id = ?", (query_id,))
            if row is None:
                missing.append({"NamedQueryId": query_id, "ErrorCode": "INVALID_INPUT",
                                "ErrorMessage": f"NamedQuery {query_id} was not found"})
            else:
                found.append(self._named_query(row))
        return {"NamedQueries": found, "UnprocessedNamedQueryIds": missing}

    @operation
    def list_named_queries(self, NextToken: str | None = None, MaxResults: int | None = None,
                           WorkGroup: str | None = None) -> dict:
        workgroup = WorkGroup or PRIMARY
        self.workgroup(workgroup)
        ids = [r["id"] for r in self.store.query(
            "SELECT id FROM named_queries WHERE workgroup = ? ORDER BY created, id", (workgroup,))]
        page, token = paged(ids, NextToken, MaxResults or 50)
        return {"NamedQueryIds": page, **({"NextToken": token} if token else {})}

    @operation
    def delete_named_query(self, NamedQueryId: str) -> dict:
        with self.store.transaction() as db:
            if db.execute("DELETE FROM named_queries WHERE id = ?", (NamedQueryId,)).rowcount == 0:
                raise InvalidRequestException(f"NamedQuery {NamedQueryId} was not found")
        return {}
