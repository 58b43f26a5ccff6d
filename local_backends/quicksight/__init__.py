"""Local Amazon QuickSight (a subset): Athena data sources, data sets, and dashboards whose
definitions render to self-contained HTML pages (plotly) that open offline in a browser.

What is served: ``create/describe/list/delete`` of data sources (type ATHENA), data sets
(one physical table: a relational table or custom SQL) and dashboards (``Definition`` with
sheets of visuals), ``describe_dashboard_definition``, ``update_dashboard`` (new version) and
``get_dashboard_embed_url``, which renders the dashboard with live data queried through
Athena and returns a ``file://`` URL. Users, groups, analyses, templates, themes and SPICE
ingestions are not served (the dispatcher names them when called).
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

from local_backends.core.base import DEFAULT_ACCOUNT_ID, Backend, operation
from local_backends.core.errors import error_class
from local_backends.core.state import SqliteStore, decode_token, encode_token

ResourceNotFoundException = error_class("ResourceNotFoundException", 404)
ResourceExistsException = error_class("ResourceExistsException", 409)
InvalidParameterValueException = error_class("InvalidParameterValueException", 400)
AccessDeniedException = error_class("AccessDeniedException", 401)

SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    kind TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY (kind, id)
);
"""

KINDS = {"datasource": "datasource", "dataset": "dataset", "dashboard": "dashboard"}


def _ts(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=timezone.utc)


class QuickSightBackend(Backend):
    """The local QuickSight backend (see the module docstring for what it serves)."""

    service = "quicksight"
    validation_error_code = "InvalidParameterValueException"

    def __init__(self, home: Path, region: str, account_id: str = DEFAULT_ACCOUNT_ID, peers=None) -> None:
        super().__init__(home, region, account_id, peers)
        self.root = self.home / "quicksight" / region
        self.db = SqliteStore(self.root / "quicksight.db", SCHEMA)

    # -- storage helpers ---------------------------------------------------------------
    def _check_account(self, account: str) -> None:
        if account != self.account_id:
            raise AccessDeniedException(f"User is not authorized to access account {account}")

    def _get(self, kind: str, rid: str) -> tuple[dict, float, float]:
        row = self.db.query_one("SELECT doc, created, updated FROM resources WHERE kind = ? AND id = ?", (kind, rid))
        if row is None:
            noun = {"datasource": "data source", "dataset": "data set", "dashboard": "dashboard"}[kind]
            raise ResourceNotFoundException(f"The {noun} {rid} does not exist in account {self.account_id}.")
        return json.loads(row["doc"]), row["created"], row["updated"]

    def _create(self, kind: str, rid: str, doc: dict) -> float:
        now = time.time()
        with self.db.transaction() as db:
            if db.execute("SELECT 1 FROM resources WHERE kind = ? AND id = ?", (kind, rid)).fetchone():
                raise ResourceExistsException(f"The {kind} {rid} already exists.", ResourceType=kind.upper())
            db.execute("INSERT INTO resources VALUES (?, ?, ?, ?, ?)", (kind, rid, json.dumps(doc), now, now))
        return now

    def _list(self, kind: str, next_token: str | None, max_results: int | None) -> tuple[list, str | None]:
        after = (decode_token(next_token) or {}).get("after", "") if next_token else ""
        limit = max_results or 100
        rows = self.db.query("SELECT id, doc, created, updated FROM resources WHERE kind = ? AND id > ? "
                             "ORDER BY id LIMIT ?", (kind, after, limit + 1))
        token = encode_token({"after": rows[limit - 1]["id"]}) if len(rows) > limit else None
        return rows[:limit], token

    def _arn(self, kind: str, rid: str) -> str:
        return f"arn:aws:quicksight:{self.region}:{self.account_id}:{kind}/{rid}"

    def _id_of(self, arn: str, kind: str) -> str:
        prefix = f"arn:aws:quicksight:{self.region}:{self.account_id}:{kind}/"
        if not arn.startswith(prefix):
            raise InvalidParameterValueException(f"{arn} is not a {kind} ARN of this account and region.")
        return arn[len(prefix):]

    # -- data sources ------------------------------------------------------------------
    @operation
    def create_data_source(self, AwsAccountId: str, DataSourceId: str, Name: str, Type: str,
                           DataSourceParameters: dict | None = None, **_):
        self._check_account(AwsAccountId)
        if Type != "ATHENA":
            raise InvalidParameterValueException(
                f"The local QuickSight backend serves ATHENA data sources only (got {Type}).")
        params = DataSourceParameters or {"AthenaParameters": {"WorkGroup": "primary"}}
        if "AthenaParameters" not in params:
            raise InvalidParameterValueException("An ATHENA data source needs AthenaParameters.")
        self._create("datasource", DataSourceId, {"Name": Name, "Type": Type, "DataSourceParameters": params})
        return {"Arn": self._arn("datasource", DataSourceId), "DataSourceId": DataSourceId,
                "CreationStatus": "CREATION_SUCCESSFUL", "Status": 202,
                "ResponseMetadata": {"HTTPStatusCode": 202}}

    def _data_source(self, rid: str, doc: dict, created: float, updated: float) -> dict:
        return {"Arn": self._arn("datasource", rid), "DataSourceId": rid, "Name": doc["Name"],
                "Type": doc["Type"], "Status": "CREATION_SUCCESSFUL", "CreatedTime": _ts(created),
                "LastUpdatedTime": _ts(updated), "DataSourceParameters": doc["DataSourceParameters"]}

    @operation
    def describe_data_source(self, AwsAccountId: str, DataSourceId: str, **_):
        self._check_account(AwsAccountId)
        doc, created, updated = self._get("datasource", DataSourceId)
        return {"DataSource": self._data_source(DataSourceId, doc, created, updated), "Status": 200}

    @operation
    def list_data_sources(self, AwsAccountId: str, NextToken: str | None = None, MaxResults: int | None = None, **_):
        self._check_account(AwsAccountId)
        rows, token = self._list("datasource", NextToken, MaxResults)
        out = {"DataSources": [self._data_source(r["id"], json.loads(r["doc"]), r["created"], r["updated"])
                               for r in rows], "Status": 200}
        if token:
            out["NextToken"] = token
        return out

    @operation
    def delete_data_source(self, AwsAccountId: str, DataSourceId: str, **_):
        self._check_account(AwsAccountId)
        self._get("datasource", DataSourceId)
        with self.db.transaction() as db:
            db.execute("DELETE FROM resources WHERE kind = 'datasource' AND id = ?", (DataSourceId,))
        return {"Arn": self._arn("datasource", DataSourceId), "DataSourceId": DataSourceId, "Status": 200}

    # -- data sets ---------------------------------------------------------------------
    @operation
    def create_data_set(self, AwsAccountId: str, DataSetId: str, Name: str, PhysicalTableMap: dict,
                        ImportMode: str, LogicalTableMap: dict | None = None, **_):
        self._check_account(AwsAccountId)
        if len(PhysicalTableMap) != 1:
            raise InvalidParameterValueException(
                "The local QuickSight backend serves data sets of exactly one physical table.")
        (table,) = PhysicalTableMap.values()
        source = table.get("RelationalTable") or table.get("CustomSql")
        if source is None:
            raise InvalidParameterValueException(
                "The local QuickSight backend serves RelationalTable and CustomSql physical tables.")
        self._get("datasource", self._id_of(source["DataSourceArn"], "datasource"))
        columns = source.get("InputColumns") or source.get("Columns") or []
        doc = {"Name": Name, "PhysicalTableMap": PhysicalTableMap, "ImportMode": ImportMode,
               "LogicalTableMap": LogicalTableMap or {},
               "OutputColumns": [{"Name": c["Name"], "Type": c["Type"]} for c in columns]}
        self._create("dataset", DataSetId, doc)
        return {"Arn": self._arn("dataset", DataSetId), "DataSetId": DataSetId, "Status": 201,
                "ResponseMetadata": {"HTTPStatusCode": 201}}

    @operation
    def describe_data_set(self, AwsAccountId: str, DataSetId: str, **_):
        self._check_account(AwsAccountId)
        doc, created, updated = self._get("dataset", DataSetId)
        return {"DataSet": {"Arn": self._arn("dataset", DataSetId), "DataSetId": DataSetId, "Name": doc["Name"],
                            "CreatedTime": _ts(created), "LastUpdatedTime": _ts(updated),
                            "PhysicalTableMap": doc["PhysicalTableMap"], "LogicalTableMap": doc["LogicalTableMap"],
                            "OutputColumns": doc["OutputColumns"], "ImportMode": doc["ImportMode"]},
                "Status": 200}

    @operation
    def list_data_sets(self, AwsAccountId: str, NextToken: str | None = None, MaxResults: int | None = None, **_):
        self._check_account(AwsAccountId)
        rows, token = self._list("dataset", NextToken, MaxResults)
        out = {"DataSetSummaries": [{"Arn": self._arn("dataset", r["id"]), "DataSetId": r["id"],
                                     "Name": json.loads(r["doc"])["Name"], "CreatedTime": _ts(r["created"]),
                                     "LastUpdatedTime": _ts(r["updated"]),
                                     "ImportMode": json.loads(r["doc"])["ImportMode"]} for r in rows],
               "Status": 200}
        if token:
            out["NextToken"] = token
        return out

    @operation
    def delete_data_set(self, AwsAccountId: str, DataSetId: str, **_):
        self._check_account(AwsAccountId)
        self._get("dataset", DataSetId)
        with self.db.transaction() as db:
            db.execute("DELETE FROM resources WHERE kind = 'dataset' AND id = ?", (DataSetId,))
        return {"Arn": self._arn("dataset", DataSetId), "DataSetId": DataSetId, "Status": 200}

    # -- dashboards --------------------------------------------------------------------
    def _check_definition(self, definition: dict) -> None:
        declared = {d["Identifier"]: d["DataSetArn"] for d in definition.get("DataSetIdentifierDeclarations", [])}
        if not declared:
            raise InvalidParameterValueException("Definition.DataSetIdentifierDeclarations must name at "
                                                 "least one data set.")
        for arn in declared.values():
            self._get("dataset", self._id_of(arn, "dataset"))

    @operation
    def create_dashboard(self, AwsAccountId: str, DashboardId: str, Name: str, Definition: dict | None = None,
                         VersionDescription: str | None = None, **params):
        self._check_account(AwsAccountId)
        if Definition is None:
            raise InvalidParameterValueException(
                "The local QuickSight backend creates dashboards from a Definition (SourceEntity templates "
                "are not served locally).")
        self._check_definition(Definition)
        doc = {"Name": Name, "Versions": [{"Definition": Definition, "Description": VersionDescription,
                                           "Created": time.time()}]}
        self._create("dashboard", DashboardId, doc)
        arn = self._arn("dashboard", DashboardId)
        return {"Arn": arn, "VersionArn": f"{arn}/version/1", "DashboardId": DashboardId,
                "CreationStatus": "CREATION_SUCCESSFUL", "Status": 202, "ResponseMetadata": {"HTTPStatusCode": 202}}

    @operation
    def update_dashboard(self, AwsAccountId: str, DashboardId: str, Name: str, Definition: dict | None = None,
                         VersionDescription: str | None = None, **_):
        self._check_account(AwsAccountId)
        if Definition is None:
            raise InvalidParameterValueException("The local QuickSight backend updates dashboards from a Definition.")
        self._check_definition(Definition)
        with self.db.transaction() as db:
            row = db.execute("SELECT doc FROM resources WHERE kind = 'dashboard' AND id = ?", (DashboardId,)).fetchone()
            if row is None:
                raise ResourceNotFoundException(f"The dashboard {DashboardId} does not exist.")
            doc = json.loads(row["doc"])
            doc["Name"] = Name
            doc["Versions"].append({"Definition": Definition, "Description": VersionDescription, "Created": time.time()})
            db.execute("UPDATE resources SET doc = ?, updated = ? WHERE kind = 'dashboard' AND id = ?",
                       (json.dumps(doc), time.time(), DashboardId))
        arn = self._arn("dashboard", DashboardId)
        n = len(doc["Versions"])
        return {"Arn": arn, "VersionArn": f"{arn}/version/{n}", "DashboardId": DashboardId,
                "CreationStatus": "CREATION_SUCCESSFUL", "Status": 202, "ResponseMetadata": {"HTTPStatusCode": 202}}

    def _version(self, doc: dict, number: int | None) -> tuple[int, dict]:
        n = number or len(doc["Versions"])
        if not 1 <= n <= len(doc["Versions"]):
            raise ResourceNotFoundException(f"Version {n} of this dashboard does not exist.")
        return n, doc["Versions"][n - 1]

    @operation
    def describe_dashboard(self, AwsAccountId: str, DashboardId: str, VersionNumber: int | None = None, **_):
        self._check_account(AwsAccountId)
        doc, created, updated = self._get("dashboard", DashboardId)
        n, version = self._version(doc, VersionNumber)
        arn = self._arn("dashboard", DashboardId)
        definition = version["Definition"]
        return {"Dashboard": {
            "DashboardId": DashboardId, "Arn": arn, "Name": doc["Name"], "CreatedTime": _ts(created),
            "LastPublishedTime": _ts(updated), "LastUpdatedTime": _ts(updated),
            "Version": {"CreatedTime": _ts(version["Created"]), "VersionNumber": n, "Status": "CREATION_SUCCESSFUL",
                        "Arn": f"{arn}/version/{n}",
                        **({"Description": version["Description"]} if version.get("Description") else {}),
                        "DataSetArns": [d["DataSetArn"] for d in definition["DataSetIdentifierDeclarations"]],
                        "Sheets": [{"SheetId": s["SheetId"], "Name": s.get("Name", s["SheetId"])}
                                   for s in definition.get("Sheets", [])]}},
            "Status": 200}

    @operation
    def describe_dashboard_definition(self, AwsAccountId: str, DashboardId: str, VersionNumber: int | None = None, **_):
        self._check_account(AwsAccountId)
        doc, _, _ = self._get("dashboard", DashboardId)
        _, version = self._version(doc, VersionNumber)
        return {"DashboardId": DashboardId, "Name": doc["Name"], "ResourceStatus": "CREATION_SUCCESSFUL",
                "Definition": version["Definition"], "Status": 200}

    @operation
    def list_dashboards(self, AwsAccountId: str, NextToken: str | None = None, MaxResults: int | None = None, **_):
        self._check_account(AwsAccountId)
        rows, token = self._list("dashboard", NextToken, MaxResults)
        out = {"DashboardSummaryList": [], "Status": 200}
        for r in rows:
            doc = json.loads(r["doc"])
            out["DashboardSummaryList"].append({
                "Arn": self._arn("dashboard", r["id"]), "DashboardId": r["id"], "Name": doc["Name"],
                "CreatedTime": _ts(r["created"]), "LastUpdatedTime": _ts(r["updated"]),
                "PublishedVersionNumber": len(doc["Versions"]), "LastPublishedTime": _ts(r["updated"])})
        if token:
            out["NextToken"] = token
        return out

    @operation
    def delete_dashboard(self, AwsAccountId: str, DashboardId: str, **_):
        self._check_account(AwsAccountId)
        self._get("dashboard", DashboardId)
        with self.db.transaction() as db:
            db.execute("DELETE FROM resources WHERE kind = 'dashboard' AND id = ?", (DashboardId,))
        return {"Arn": self._arn("dashboard", DashboardId), "DashboardId": DashboardId, "Status": 200}

    @operation
    def get_dashboard_embed_url(self, AwsAccountId: str, DashboardId: str, IdentityType: str, **_):
        """Renders the dashboard's latest version with live data; the URL is a local file."""
        self._check_account(AwsAccountId)
        path = self.render_dashboard(DashboardId)
        return {"EmbedUrl": path.resolve().as_uri(), "Status": 200}

    # -- rendering (public, for other local code: the facade, the CLI) -----------------
    def render_dashboard(self, dashboard_id: str, version: int | None = None) -> Path:
        """Render a dashboard to a self-contained HTML file (plotly) and return its path."""
        from .render import render_dashboard

        doc, _, _ = self._get("dashboard", dashboard_id)
        n, ver = self._version(doc, version)
        datasets = {}
        for decl in ver["Definition"]["DataSetIdentifierDeclarations"]:
            ds_doc, _, _ = self._get("dataset", self._id_of(decl["DataSetArn"], "dataset"))
            (table,) = ds_doc["PhysicalTableMap"].values()
            source = table.get("RelationalTable") or table.get("CustomSql")
            src_doc, _, _ = self._get("datasource", self._id_of(source["DataSourceArn"], "datasource"))
            datasets[decl["Identifier"]] = {"table": table, "workgroup":
                                            src_doc["DataSourceParameters"]["AthenaParameters"].get("WorkGroup", "primary")}
        html = render_dashboard(doc["Name"], ver["Definition"], datasets, self.peers.client("athena"))
        out = self.root / "dashboards" / dashboard_id / f"version-{n}.html"
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(out)
        return out


__all__ = ["QuickSightBackend"]
