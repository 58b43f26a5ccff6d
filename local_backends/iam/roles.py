"""IAM roles, their trust policies, tags and inline policies."""
from __future__ import annotations

import json
import time

from local_backends.core.base import operation

from . import documents
from .common import as_datetime, check_path, dumps, merge_tags, new_id, page
from .errors import DeleteConflict, EntityAlreadyExists, InvalidInput, NoSuchEntity


def no_role(name: str) -> NoSuchEntity:
    return NoSuchEntity(f"The role with name {name} cannot be found.")


class Roles:
    """Role operations (mixed into :class:`local_backends.iam.IAMBackend`)."""

    def _role_arn(self, path: str, name: str) -> str:
        return f"arn:aws:iam::{self.account_id}:role{path}{name}"

    def _role_row(self, db, name: str):
        row = db.execute("SELECT * FROM roles WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise no_role(name)
        return row

    def _role(self, row, *, tags: bool = True) -> dict:
        role = {
            "Path": row["path"], "RoleName": row["name"], "RoleId": row["id"],
            "Arn": self._role_arn(row["path"], row["name"]),
            "CreateDate": as_datetime(row["created"]),
            "AssumeRolePolicyDocument": documents.encode(row["trust"]),
            "MaxSessionDuration": row["max_session"],
            "RoleLastUsed": {},
        }
        if row["description"] is not None:
            role["Description"] = row["description"]
        if row["boundary"]:
            role["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                           "PermissionsBoundaryArn": row["boundary"]}
        role_tags = json.loads(row["tags"])
        if tags and role_tags:
            role["Tags"] = role_tags
        return role

    @staticmethod
    def _check_session(seconds: int) -> int:
        if not 3600 <= seconds <= 43200:
            raise InvalidInput(f"The requested MaxSessionDuration {seconds} is invalid: it must be "
                               "between 3600 and 43200 seconds.")
        return seconds

    # -- roles -------------------------------------------------------------------------
    @operation
    def create_role(self, RoleName: str, AssumeRolePolicyDocument: str, Path: str = "/",
                    Description: str | None = None, MaxSessionDuration: int = 3600,
                    PermissionsBoundary: str | None = None, Tags: list | None = None):
        check_path(Path)
        documents.check(AssumeRolePolicyDocument, trust=True)
        self._check_session(MaxSessionDuration)
        tags = merge_tags([], Tags or [])
        with self.store.transaction() as db:
            if db.execute("SELECT 1 FROM roles WHERE name = ?", (RoleName,)).fetchone():
                raise EntityAlreadyExists(f"Role with name {RoleName} already exists.")
            if PermissionsBoundary is not None:
                self._policy_row(db, PermissionsBoundary)
            db.execute("INSERT INTO roles (name, id, path, trust, description, max_session, boundary, "
                       "created, tags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (RoleName, new_id("AROA"), Path, AssumeRolePolicyDocument, Description,
                        MaxSessionDuration, PermissionsBoundary, time.time(), dumps(tags)))
            return {"Role": self._role(self._role_row(db, RoleName))}

    @operation
    def get_role(self, RoleName: str):
        return {"Role": self._role(self._role_row(self.store.connection(), RoleName))}

    @operation
    def list_roles(self, PathPrefix: str = "/", Marker: str | None = None, MaxItems: int | None = None):
        rows = self.store.query("SELECT * FROM roles WHERE substr(path, 1, ?) = ? ORDER BY name",
                                (len(PathPrefix), PathPrefix))
        return page([self._role(r, tags=False) for r in rows], "Roles", Marker, MaxItems)

    @operation
    def update_role(self, RoleName: str, Description: str | None = None,
                    MaxSessionDuration: int | None = None):
        with self.store.transaction() as db:
            self._role_row(db, RoleName)
            if Description is not None:
                db.execute("UPDATE roles SET description = ? WHERE name = ?", (Description, RoleName))
            if MaxSessionDuration is not None:
                db.execute("UPDATE roles SET max_session = ? WHERE name = ?",
                           (self._check_session(MaxSessionDuration), RoleName))
        return {}

    @operation
    def update_role_description(self, RoleName: str, Description: str):
        self.update_role(RoleName=RoleName, Description=Description)
        return {"Role": self._role(self._role_row(self.store.connection(), RoleName))}

    @operation
    def delete_role(self, RoleName: str):
        with self.store.transaction() as db:
            RoleName = self._role_row(db, RoleName)["name"]
            if db.execute("SELECT 1 FROM attachments WHERE role = ?", (RoleName,)).fetchone():
                raise DeleteConflict("Cannot delete entity, must detach all policies first.")
            if db.execute("SELECT 1 FROM inline_policies WHERE role = ?", (RoleName,)).fetchone():
                raise DeleteConflict("Cannot delete entity, must delete policies first.")
            db.execute("DELETE FROM roles WHERE name = ?", (RoleName,))
        return {}

    @operation
    def update_assume_role_policy(self, RoleName: str, PolicyDocument: str):
        documents.check(PolicyDocument, trust=True)
        with self.store.transaction() as db:
            self._role_row(db, RoleName)
            db.execute("UPDATE roles SET trust = ? WHERE name = ?", (PolicyDocument, RoleName))
        return {}

    @operation
    def put_role_permissions_boundary(self, RoleName: str, PermissionsBoundary: str):
        with self.store.transaction() as db:
            self._role_row(db, RoleName)
            self._policy_row(db, PermissionsBoundary)
            db.execute("UPDATE roles SET boundary = ? WHERE name = ?", (PermissionsBoundary, RoleName))
        return {}

    @operation
    def delete_role_permissions_boundary(self, RoleName: str):
        with self.store.transaction() as db:
            self._role_row(db, RoleName)
            db.execute("UPDATE roles SET boundary = NULL WHERE name = ?", (RoleName,))
        return {}

    # -- tags --------------------------------------------------------------------------
    @operation
    def tag_role(self, RoleName: str, Tags: list):
        with self.store.transaction() as db:
            row = self._role_row(db, RoleName)
            tags = merge_tags(json.loads(row["tags"]), Tags)
            db.execute("UPDATE roles SET tags = ? WHERE name = ?", (dumps(tags), RoleName))
        return {}

    @operation
    def untag_role(self, RoleName: str, TagKeys: list):
        with self.store.transaction() as db:
            row = self._role_row(db, RoleName)
            tags = [t for t in json.loads(row["tags"]) if t["Key"] not in TagKeys]
            db.execute("UPDATE roles SET tags = ? WHERE name = ?", (dumps(tags), RoleName))
        return {}

    @operation
    def list_role_tags(self, RoleName: str, Marker: str | None = None, MaxItems: int | None = None):
        row = self._role_row(self.store.connection(), RoleName)
        return page(json.loads(row["tags"]), "Tags", Marker, MaxItems)

    # -- inline policies ---------------------------------------------------------------
    @operation
    def put_role_policy(self, RoleName: str, PolicyName: str, PolicyDocument: str):
        documents.check(PolicyDocument)
        with self.store.transaction() as db:
            name = self._role_row(db, RoleName)["name"]
            db.execute("INSERT INTO inline_policies (role, name, document) VALUES (?, ?, ?) "
                       "ON CONFLICT (role, name) DO UPDATE SET document = excluded.document",
                       (name, PolicyName, PolicyDocument))
        return {}

    def _inline_row(self, db, RoleName: str, PolicyName: str):
        role = self._role_row(db, RoleName)["name"]
        row = db.execute("SELECT * FROM inline_policies WHERE role = ? AND name = ?",
                         (role, PolicyName)).fetchone()
        if row is None:
            raise NoSuchEntity(f"The role policy with name {PolicyName} cannot be found.")
        return row

    @operation
    def get_role_policy(self, RoleName: str, PolicyName: str):
        db = self.store.connection()
        row = self._inline_row(db, RoleName, PolicyName)
        return {"RoleName": self._role_row(db, RoleName)["name"], "PolicyName": row["name"],
                "PolicyDocument": documents.encode(row["document"])}

    @operation
    def list_role_policies(self, RoleName: str, Marker: str | None = None, MaxItems: int | None = None):
        db = self.store.connection()
        role = self._role_row(db, RoleName)["name"]
        names = [r["name"] for r in db.execute(
            "SELECT name FROM inline_policies WHERE role = ? ORDER BY name", (role,))]
        return page(names, "PolicyNames", Marker, MaxItems)

    @operation
    def delete_role_policy(self, RoleName: str, PolicyName: str):
        with self.store.transaction() as db:
            row = self._inline_row(db, RoleName, PolicyName)
            db.execute("DELETE FROM inline_policies WHERE role = ? AND name = ?", (row["role"], PolicyName))
        return {}
