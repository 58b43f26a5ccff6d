"""Glue databases: create, get, list, update, delete."""
from __future__ import annotations

from local_backends.core.base import operation

from .common import norm, now, page_start, page_token, utc
from .errors import AlreadyExistsException, EntityNotFoundException, InvalidInputException
from .store import decode, encode

_DATABASE_MEMBERS = ("Name", "Description", "LocationUri", "Parameters",
                     "CreateTableDefaultPermissions", "TargetDatabase", "FederatedDatabase")


class DatabasesMixin:
    """Operations on databases (``CreateDatabase`` ... ``DeleteDatabase``)."""

    def _database_row(self, db, name: str):
        row = db.execute("SELECT * FROM databases WHERE name = ?", (norm(name),)).fetchone()
        if row is None:
            raise EntityNotFoundException(f"Database {name} not found.")
        return row

    def _database_shape(self, row) -> dict:
        body = decode(row["body"])
        out = {k: body[k] for k in _DATABASE_MEMBERS if k in body}
        out["Name"] = row["name"]
        out["CreateTime"] = utc(row["created"])
        out.setdefault("Parameters", {})
        out.setdefault("CreateTableDefaultPermissions", [
            {"Principal": {"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"},
             "Permissions": ["ALL"]}])
        out["CatalogId"] = self.account_id
        return out

    @operation
    def create_database(self, DatabaseInput: dict, CatalogId: str | None = None,
                        Tags: dict | None = None) -> dict:
        name = norm(DatabaseInput["Name"])
        with self.store.transaction() as db:
            if db.execute("SELECT 1 FROM databases WHERE name = ?", (name,)).fetchone():
                raise AlreadyExistsException("Database already exists.")
            db.execute("INSERT INTO databases (name, body, created) VALUES (?, ?, ?)",
                       (name, encode(DatabaseInput), now()))
        return {}

    @operation
    def get_database(self, Name: str, CatalogId: str | None = None) -> dict:
        db = self.store.connection()
        return {"Database": self._database_shape(self._database_row(db, Name))}

    @operation
    def get_databases(self, CatalogId: str | None = None, NextToken: str | None = None,
                      MaxResults: int | None = None, ResourceShareType: str | None = None,
                      AttributesToGet: list | None = None) -> dict:
        limit = MaxResults or 100
        after = page_start(NextToken) or ""
        rows = self.store.query("SELECT * FROM databases WHERE name > ? ORDER BY name LIMIT ?",
                                (after, limit + 1))
        out: dict = {"DatabaseList": []}
        for row in rows[:limit]:
            shape = self._database_shape(row)
            if AttributesToGet:
                shape = {k: v for k, v in shape.items() if k in AttributesToGet or k == "Name"}
            out["DatabaseList"].append(shape)
        token = page_token(rows, limit, lambda r: r["name"])
        if token:
            out["NextToken"] = token
        return out

    @operation
    def update_database(self, Name: str, DatabaseInput: dict, CatalogId: str | None = None) -> dict:
        if norm(DatabaseInput["Name"]) != norm(Name):
            raise InvalidInputException("Renaming a database is not supported: "
                                        "DatabaseInput.Name must equal Name.")
        with self.store.transaction() as db:
            self._database_row(db, Name)
            db.execute("UPDATE databases SET body = ? WHERE name = ?",
                       (encode(DatabaseInput), norm(Name)))
        return {}

    @operation
    def delete_database(self, Name: str, CatalogId: str | None = None) -> dict:
        with self.store.transaction() as db:
            self._database_row(db, Name)
            db.execute("DELETE FROM partitions WHERE db = ?", (norm(Name),))
            db.execute("DELETE FROM tables WHERE db = ?", (norm(Name),))
            db.execute("DELETE FROM databases WHERE name = ?", (norm(Name),))
        return {}
