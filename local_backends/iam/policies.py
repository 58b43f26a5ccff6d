"""IAM customer managed policies, their versions, and their attachment to roles."""
from __future__ import annotations

import json
import time

from local_backends.core.base import operation

from . import documents
from .common import as_datetime, check_path, dumps, merge_tags, new_id, page
from .errors import DeleteConflict, EntityAlreadyExists, InvalidInput, LimitExceeded, NoSuchEntity

MAX_VERSIONS = 5


class Policies:
    """Managed policy operations (mixed into :class:`local_backends.iam.IAMBackend`)."""

    def _policy_arn(self, path: str, name: str) -> str:
        return f"arn:aws:iam::{self.account_id}:policy{path}{name}"

    def _policy_row(self, db, arn: str):
        row = db.execute("SELECT * FROM policies WHERE arn = ?", (arn,)).fetchone()
        if row is None:
            raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")
        return row

    def _policy(self, db, row, *, tags: bool = True) -> dict:
        count = db.execute("SELECT count(*) FROM attachments WHERE policy_arn = ?",
                           (row["arn"],)).fetchone()[0]
        bounds = db.execute("SELECT count(*) FROM roles WHERE boundary = ?", (row["arn"],)).fetchone()[0]
        policy = {
            "PolicyName": row["name"], "PolicyId": row["id"], "Arn": row["arn"], "Path": row["path"],
            "DefaultVersionId": row["default_version"], "AttachmentCount": count,
            "PermissionsBoundaryUsageCount": bounds, "IsAttachable": True,
            "CreateDate": as_datetime(row["created"]), "UpdateDate": as_datetime(row["updated"]),
        }
        if row["description"] is not None:
            policy["Description"] = row["description"]
        policy_tags = json.loads(row["tags"])
        if tags and policy_tags:
            policy["Tags"] = policy_tags
        return policy

    # -- policies ----------------------------------------------------------------------
    @operation
    def create_policy(self, PolicyName: str, PolicyDocument: str, Path: str = "/",
                      Description: str | None = None, Tags: list | None = None):
        check_path(Path)
        documents.check(PolicyDocument)
        tags = merge_tags([], Tags or [])
        arn = self._policy_arn(Path, PolicyName)
        now = time.time()
        with self.store.transaction() as db:
            if db.execute("SELECT 1 FROM policies WHERE name = ? COLLATE NOCASE AND path = ?",
                          (PolicyName, Path)).fetchone():
                raise EntityAlreadyExists(f"A policy called {PolicyName} already exists. "
                                          "Duplicate names are not allowed.")
            db.execute("INSERT INTO policies (arn, name, id, path, description, default_version, "
                       "next_version, created, updated, tags) VALUES (?, ?, ?, ?, ?, 'v1', 2, ?, ?, ?)",
                       (arn, PolicyName, new_id("ANPA"), Path, Description, now, now, dumps(tags)))
            db.execute("INSERT INTO policy_versions (arn, version, document, created) VALUES (?, 'v1', ?, ?)",
                       (arn, PolicyDocument, now))
            return {"Policy": self._policy(db, self._policy_row(db, arn))}

    @operation
    def get_policy(self, PolicyArn: str):
        db = self.store.connection()
        return {"Policy": self._policy(db, self._policy_row(db, PolicyArn))}

    @operation
    def list_policies(self, Scope: str = "All", OnlyAttached: bool = False, PathPrefix: str = "/",
                      PolicyUsageFilter: str | None = None, Marker: str | None = None,
                      MaxItems: int | None = None):
        db = self.store.connection()
        rows = [] if Scope == "AWS" else db.execute(
            "SELECT * FROM policies WHERE substr(path, 1, ?) = ? ORDER BY name",
            (len(PathPrefix), PathPrefix)).fetchall()
        policies = [self._policy(db, r, tags=False) for r in rows]
        if OnlyAttached:
            policies = [p for p in policies if p["AttachmentCount"] > 0]
        return page(policies, "Policies", Marker, MaxItems)

    @operation
    def delete_policy(self, PolicyArn: str):
        with self.store.transaction() as db:
            self._policy_row(db, PolicyArn)
            if db.execute("SELECT 1 FROM attachments WHERE policy_arn = ?", (PolicyArn,)).fetchone():
                raise DeleteConflict("Cannot delete a policy attached to entities.")
            if db.execute("SELECT 1 FROM roles WHERE boundary = ?", (PolicyArn,)).fetchone():
                raise DeleteConflict("Cannot delete a policy used as a permissions boundary.")
            if db.execute("SELECT count(*) FROM policy_versions WHERE arn = ?", (PolicyArn,)).fetchone()[0] > 1:
                raise DeleteConflict("Cannot delete a policy with non-default versions; "
                                     "delete them first.")
            db.execute("DELETE FROM policies WHERE arn = ?", (PolicyArn,))
        return {}

    @operation
    def tag_policy(self, PolicyArn: str, Tags: list):
        with self.store.transaction() as db:
            row = self._policy_row(db, PolicyArn)
            db.execute("UPDATE policies SET tags = ? WHERE arn = ?",
                       (dumps(merge_tags(json.loads(row["tags"]), Tags)), PolicyArn))
        return {}

    @operation
    def list_policy_tags(self, PolicyArn: str, Marker: str | None = None, MaxItems: int | None = None):
        row = self._policy_row(self.store.connection(), PolicyArn)
        return page(json.loads(row["tags"]), "Tags", Marker, MaxItems)

    # -- versions ----------------------------------------------------------------------
    def _version(self, row, default: str, *, document: bool) -> dict:
        out = {"VersionId": row["version"], "IsDefaultVersion": row["version"] == default,
               "CreateDate": as_datetime(row["created"])}
        if document:
            out["Document"] = documents.encode(row["document"])
        return out

    @operation
    def get_policy_version(self, PolicyArn: str, VersionId: str):
        db = self.store.connection()
        policy = self._policy_row(db, PolicyArn)
        row = db.execute("SELECT * FROM policy_versions WHERE arn = ? AND version = ?",
                         (PolicyArn, VersionId)).fetchone()
        if row is None:
            raise NoSuchEntity(f"Policy {PolicyArn} version {VersionId} does not exist or is not attachable.")
        return {"PolicyVersion": self._version(row, policy["default_version"], document=True)}

    @operation
    def list_policy_versions(self, PolicyArn: str, Marker: str | None = None, MaxItems: int | None = None):
        db = self.store.connection()
        policy = self._policy_row(db, PolicyArn)
        rows = db.execute("SELECT * FROM policy_versions WHERE arn = ? ORDER BY created DESC, version DESC",
                          (PolicyArn,)).fetchall()
        return page([self._version(r, policy["default_version"], document=True) for r in rows],
                    "Versions", Marker, MaxItems)

    @operation
    def create_policy_version(self, PolicyArn: str, PolicyDocument: str, SetAsDefault: bool = False):
        documents.check(PolicyDocument)
        now = time.time()
        with self.store.transaction() as db:
            policy = self._policy_row(db, PolicyArn)
            count = db.execute("SELECT count(*) FROM policy_versions WHERE arn = ?", (PolicyArn,)).fetchone()[0]
            if count >= MAX_VERSIONS:
                raise LimitExceeded(f"A managed policy can have up to {MAX_VERSIONS} versions. Before you "
                                    "create a new version, you must delete an existing version.")
            version = f"v{policy['next_version']}"
            db.execute("INSERT INTO policy_versions (arn, version, document, created) VALUES (?, ?, ?, ?)",
                       (PolicyArn, version, PolicyDocument, now))
            default = version if SetAsDefault else policy["default_version"]
            db.execute("UPDATE policies SET next_version = next_version + 1, default_version = ?, "
                       "updated = ? WHERE arn = ?", (default, now, PolicyArn))
            row = db.execute("SELECT * FROM policy_versions WHERE arn = ? AND version = ?",
                             (PolicyArn, version)).fetchone()
            return {"PolicyVersion": self._version(row, default, document=False)}

    @operation
    def set_default_policy_version(self, PolicyArn: str, VersionId: str):
        with self.store.transaction() as db:
            self._policy_row(db, PolicyArn)
            if not db.execute("SELECT 1 FROM policy_versions WHERE arn = ? AND version = ?",
                              (PolicyArn, VersionId)).fetchone():
                raise NoSuchEntity(f"Policy {PolicyArn} version {VersionId} does not exist or is not attachable.")
            db.execute("UPDATE policies SET default_version = ?, updated = ? WHERE arn = ?",
                       (VersionId, time.time(), PolicyArn))
        return {}

    @operation
    def delete_policy_version(self, PolicyArn: str, VersionId: str):
        with self.store.transaction() as db:
            policy = self._policy_row(db, PolicyArn)
            if VersionId == policy["default_version"]:
                raise DeleteConflict("Cannot delete the default version of a policy.")
            if not db.execute("DELETE FROM policy_versions WHERE arn = ? AND version = ?",
                              (PolicyArn, VersionId)).rowcount:
                raise NoSuchEntity(f"Policy {PolicyArn} version {VersionId} does not exist or is not attachable.")
        return {}

    # -- attachments -------------------------------------------------------------------
    @operation
    def attach_role_policy(self, RoleName: str, PolicyArn: str):
        if not PolicyArn.startswith("arn:"):
            raise InvalidInput(f"ARN {PolicyArn} is not valid.")
        with self.store.transaction() as db:
            role = self._role_row(db, RoleName)["name"]
            arn = self._policy_row(db, PolicyArn)["arn"]
            db.execute("INSERT OR IGNORE INTO attachments (role, policy_arn) VALUES (?, ?)", (role, arn))
        return {}

    @operation
    def detach_role_policy(self, RoleName: str, PolicyArn: str):
        with self.store.transaction() as db:
            role = self._role_row(db, RoleName)["name"]
            if not db.execute("DELETE FROM attachments WHERE role = ? AND policy_arn = ?",
                              (role, PolicyArn)).rowcount:
                raise NoSuchEntity(f"Policy {PolicyArn} was not found.")
        return {}

    @operation
    def list_attached_role_policies(self, RoleName: str, PathPrefix: str = "/", Marker: str | None = None,
                                    MaxItems: int | None = None):
        db = self.store.connection()
        role = self._role_row(db, RoleName)["name"]
        rows = db.execute("SELECT p.name, p.arn, p.path FROM attachments a JOIN policies p "
                          "ON p.arn = a.policy_arn WHERE a.role = ? ORDER BY p.name", (role,)).fetchall()
        attached = [{"PolicyName": r["name"], "PolicyArn": r["arn"]} for r in rows
                    if r["path"].startswith(PathPrefix)]
        return page(attached, "AttachedPolicies", Marker, MaxItems)

    @operation
    def list_entities_for_policy(self, PolicyArn: str, EntityFilter: str | None = None,
                                 PathPrefix: str = "/", PolicyUsageFilter: str | None = None,
                                 Marker: str | None = None, MaxItems: int | None = None):
        db = self.store.connection()
        self._policy_row(db, PolicyArn)
        rows = db.execute("SELECT r.name, r.id FROM attachments a JOIN roles r ON r.name = a.role "
                          "WHERE a.policy_arn = ? ORDER BY r.name", (PolicyArn,)).fetchall()
        roles = [] if EntityFilter not in (None, "Role") else \
            [{"RoleName": r["name"], "RoleId": r["id"]} for r in rows]
        out = page(roles, "PolicyRoles", Marker, MaxItems)
        out.update(PolicyGroups=[], PolicyUsers=[])
        return out
