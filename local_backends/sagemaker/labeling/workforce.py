"""The private workforce, its work teams and their workers.

Every account and region has one private workforce, ``default`` (as on AWS once a private
work team exists); work teams are created in it. AWS's workers are Amazon Cognito users; the
local backend registers its workers itself (:meth:`Workforces.add_worker`): a name, an email
and a kind, ``human`` (who works in the portal) or ``program`` (a Python callable, a rule or a
simulated annotator, see :mod:`.workers`).
"""
from __future__ import annotations

import hashlib
import json
import time
import uuid

from local_backends.core.base import operation
from local_backends.core.errors import ResourceInUse, ValidationException
from local_backends.core.state import encode_token, token_value
from local_backends.core.times import utc_datetime as _dt

from .store import dumps, open_store


WORKFORCE = "default"
WORKER_KINDS = ("human", "program")


class Workforces:
    """Work-team and workforce operations of the local SageMaker backend (a mixin)."""

    @property
    def labeling_store(self):
        store = self.__dict__.get("_labeling_store")
        if store is None:
            store = self.__dict__["_labeling_store"] = open_store(self.home)
        return store

    # -- the workforce ---------------------------------------------------------------------
    def _gt_workforce(self) -> dict:
        digest = hashlib.sha256(f"{self.account_id}/{self.region}".encode()).hexdigest()[:10]
        return {
            "WorkforceName": WORKFORCE,
            "WorkforceArn": self.arn(f"workforce/{WORKFORCE}"),
            "LastUpdatedDate": _dt(0),
            "SourceIpConfig": {"Cidrs": []},
            "SubDomain": f"{digest}.labeling.{self.region}.sagemaker.aws",
            "CognitoConfig": {"UserPool": f"{self.region}_local{digest}", "ClientId": f"local{digest}"},
            "CreateDate": _dt(0),
            "Status": "Active",
        }

    @operation
    def describe_workforce(self, WorkforceName: str) -> dict:
        if WorkforceName != WORKFORCE:
            raise ValidationException(f"Workforce {WorkforceName} does not exist in this account "
                                      f"and region.")
        return {"Workforce": self._gt_workforce()}

    @operation
    def list_workforces(self, SortBy: str | None = None, SortOrder: str | None = None,
                        NameContains: str | None = None, NextToken: str | None = None,
                        MaxResults: int | None = None) -> dict:
        forces = [self._gt_workforce()]
        if NameContains and NameContains not in WORKFORCE:
            forces = []
        return {"Workforces": forces}

    # -- work teams ------------------------------------------------------------------------
    def _gt_team_row(self, name: str):
        return self.labeling_store.query_one(
            "SELECT * FROM workteams WHERE account=? AND region=? AND name=?",
            (self.account_id, self.region, name))

    def _gt_team(self, row) -> dict:
        body = json.loads(row["body"])
        team = {
            "WorkteamName": row["name"], "MemberDefinitions": body["MemberDefinitions"],
            "WorkteamArn": row["arn"], "WorkforceArn": self.arn(f"workforce/{WORKFORCE}"),
            "ProductListingIds": [], "Description": body["Description"],
            "SubDomain": self._gt_workforce()["SubDomain"],
            "CreateDate": _dt(row["created"]), "LastUpdatedDate": _dt(row["updated"]),
        }
        for key in ("NotificationConfiguration", "WorkerAccessConfiguration"):
            if key in body:
                team[key] = body[key]
        return team

    def _gt_check_members(self, members: list[dict]) -> None:
        kinds = {("Cognito" if "CognitoMemberDefinition" in m else "Oidc" if "OidcMemberDefinition" in m
                  else None) for m in members}
        if None in kinds or len(kinds) != 1:
            raise ValidationException("MemberDefinitions must all be CognitoMemberDefinition or all be "
                                      "OidcMemberDefinition.")

    @operation
    def create_workteam(self, WorkteamName: str, MemberDefinitions: list, Description: str,
                        WorkforceName: str | None = None, NotificationConfiguration: dict | None = None,
                        WorkerAccessConfiguration: dict | None = None, Tags: list | None = None) -> dict:
        if WorkforceName is not None and WorkforceName != WORKFORCE:
            raise ValidationException(f"Workforce {WorkforceName} does not exist in this account and region.")
        self._gt_check_members(MemberDefinitions)
        body = {"MemberDefinitions": MemberDefinitions, "Description": Description, "Tags": Tags or []}
        if NotificationConfiguration is not None:
            body["NotificationConfiguration"] = NotificationConfiguration
        if WorkerAccessConfiguration is not None:
            body["WorkerAccessConfiguration"] = WorkerAccessConfiguration
        arn = self.arn(f"workteam/private-crowd/{WorkteamName}")
        now = time.time()
        with self.labeling_store.transaction() as db:
            if db.execute("SELECT 1 FROM workteams WHERE account=? AND region=? AND name=?",
                          (self.account_id, self.region, WorkteamName)).fetchone():
                raise ResourceInUse(f"Workteam with name {WorkteamName} already exists.")
            db.execute("INSERT INTO workteams VALUES (?,?,?,?,?,?,?)",
                       (self.account_id, self.region, WorkteamName, arn, dumps(body), now, now))
        return {"WorkteamArn": arn}

    @operation
    def describe_workteam(self, WorkteamName: str) -> dict:
        row = self._gt_team_row(WorkteamName)
        if row is None:
            raise ValidationException(f"The work team {WorkteamName} does not exist.")
        return {"Workteam": self._gt_team(row)}

    @operation
    def list_workteams(self, SortBy: str | None = None, SortOrder: str | None = None,
                       NameContains: str | None = None, NextToken: str | None = None,
                       MaxResults: int | None = None) -> dict:
        rows = self.labeling_store.query("SELECT * FROM workteams WHERE account=? AND region=?",
                                         (self.account_id, self.region))
        rows = [r for r in rows if not NameContains or NameContains in r["name"]]
        key = (lambda r: r["created"]) if SortBy == "CreateDate" else (lambda r: r["name"])
        rows.sort(key=key, reverse=(SortOrder == "Descending"))
        return self._labeling_page([self._gt_team(r) for r in rows], "Workteams", NextToken, MaxResults)

    def _labeling_page(self, entries: list, key: str, token: str | None, max_results: int | None) -> dict:
        start = 0
        if token:
            start = token_value(token, "start", int, ValidationException("Invalid pagination token given"))
        size = max_results or 10
        page = entries[start:start + size]
        out = {key: page}
        if start + size < len(entries):
            out["NextToken"] = encode_token({"start": start + size})
        return out

    @operation
    def update_workteam(self, WorkteamName: str, MemberDefinitions: list | None = None,
                        Description: str | None = None, NotificationConfiguration: dict | None = None,
                        WorkerAccessConfiguration: dict | None = None) -> dict:
        if MemberDefinitions is not None:
            self._gt_check_members(MemberDefinitions)
        with self.labeling_store.transaction() as db:
            row = db.execute("SELECT * FROM workteams WHERE account=? AND region=? AND name=?",
                             (self.account_id, self.region, WorkteamName)).fetchone()
            if row is None:
                raise ValidationException(f"The work team {WorkteamName} does not exist.")
            body = json.loads(row["body"])
            for key, value in (("MemberDefinitions", MemberDefinitions), ("Description", Description),
                               ("NotificationConfiguration", NotificationConfiguration),
                               ("WorkerAccessConfiguration", WorkerAccessConfiguration)):
                if value is not None:
                    body[key] = value
            db.execute("UPDATE workteams SET body=?, updated=? WHERE arn=?",
                       (dumps(body), time.time(), row["arn"]))
        return {"Workteam": self._gt_team(self._gt_team_row(WorkteamName))}

    @operation
    def delete_workteam(self, WorkteamName: str) -> dict:
        with self.labeling_store.transaction() as db:
            row = db.execute("SELECT arn FROM workteams WHERE account=? AND region=? AND name=?",
                             (self.account_id, self.region, WorkteamName)).fetchone()
            if row is None:
                raise ValidationException(f"The work team {WorkteamName} does not exist.")
            busy = db.execute("SELECT name FROM jobs WHERE workteam_arn=? AND status IN "
                              "('Initializing','InProgress','Stopping')", (row["arn"],)).fetchone()
            if busy:
                raise ValidationException(f"The work team {WorkteamName} has the labeling job "
                                          f"{busy['name']} in progress and cannot be deleted.")
            db.execute("DELETE FROM workteams WHERE arn=?", (row["arn"],))
            db.execute("DELETE FROM workers WHERE account=? AND region=? AND workteam=?",
                       (self.account_id, self.region, WorkteamName))
        return {"Success": True}

    # -- workers (local registration: AWS keeps them in Amazon Cognito) --------------------
    def add_worker(self, workteam: str, name: str, email: str | None = None, kind: str = "human") -> str:
        """Register a worker in a work team; returns its worker id (``workerId`` in outputs)."""
        if kind not in WORKER_KINDS:
            raise ValueError(f"The 'kind' parameter of add_worker must be one of {list(WORKER_KINDS)}. "
                             f"Got {kind!r} instead.")
        if self._gt_team_row(workteam) is None:
            raise ValidationException(f"The work team {workteam} does not exist.")
        worker_id = "private." + uuid.uuid4().hex[:16]
        with self.labeling_store.transaction() as db:
            db.execute("INSERT INTO workers VALUES (?,?,?,?,?,?,?,?,?)",
                       (worker_id, self.account_id, self.region, workteam, name, email, kind,
                        str(uuid.uuid4()), time.time()))
        return worker_id

    def list_workers(self, workteam: str | None = None) -> list[dict]:
        """The registered workers (of one work team, or all of this account and region)."""
        sql = "SELECT * FROM workers WHERE account=? AND region=?"
        args: tuple = (self.account_id, self.region)
        if workteam:
            sql += " AND workteam=?"
            args += (workteam,)
        return [{"WorkerId": r["worker_id"], "Name": r["name"], "Email": r["email"], "Kind": r["kind"],
                 "Workteam": r["workteam"]} for r in self.labeling_store.query(sql + " ORDER BY created", args)]
