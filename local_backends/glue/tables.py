"""Glue tables: create, get, list, update, delete, batch delete."""
from __future__ import annotations

import re

from local_backends.core.base import operation

from .common import norm, now, page_start, page_token, utc
from .errors import (AlreadyExistsException, ConcurrentModificationException,
                     EntityNotFoundException, InvalidInputException)
from .store import decode, encode

_TABLE_MEMBERS = ("Name", "Description", "Owner", "LastAccessTime", "LastAnalyzedTime",
                  "Retention", "StorageDescriptor", "PartitionKeys", "ViewOriginalText",
                  "ViewExpandedText", "TableType", "Parameters", "TargetTable")


def check_table_input(table_input: dict) -> None:
    """Glue's own checks of a ``TableInput`` (beyond botocore's validation)."""
    columns = (table_input.get("StorageDescriptor") or {}).get("Columns") or []
    keys = table_input.get("PartitionKeys") or []
    seen: set[str] = set()
    for col in [*columns, *keys]:
        lowered = col["Name"].lower()
        if lowered in seen:
            raise InvalidInputException(f"Duplicate column name: {col['Name']}")
        seen.add(lowered)


class TablesMixin:
    """Operations on tables (``CreateTable`` ... ``BatchDeleteTable``)."""

    def _table_row(self, db, database: str, name: str):
        self._database_row(db, database)
        row = db.execute("SELECT * FROM tables WHERE db = ? AND name = ?",
                         (norm(database), norm(name))).fetchone()
        if row is None:
            raise EntityNotFoundException(f"Table {name} not found.")
        return row

    def _table_shape(self, row) -> dict:
        body = decode(row["body"])
        out = {k: body[k] for k in _TABLE_MEMBERS if k in body}
        out["Name"] = row["name"]
        out["DatabaseName"] = row["db"]
        out["CreateTime"] = utc(row["created"])
        out["UpdateTime"] = utc(row["updated"])
        out.setdefault("PartitionKeys", [])
        out.setdefault("Retention", 0)
        out["CreatedBy"] = f"arn:aws:iam::{self.account_id}:user/local"
        out["IsRegisteredWithLakeFormation"] = False
        out["CatalogId"] = self.account_id
        out["VersionId"] = str(row["version"])
        return out

    @operation
    def create_table(self, DatabaseName: str, TableInput: dict | None = None,
                     CatalogId: str | None = None, Name: str | None = None,
                     PartitionIndexes: list | None = None, TransactionId: str | None = None,
                     OpenTableFormatInput: dict | None = None) -> dict:
        if TableInput is None:
            raise InvalidInputException("TableInput is required.")
        check_table_input(TableInput)
        name = norm(TableInput["Name"])
        t = now()
        with self.store.transaction() as db:
            self._database_row(db, DatabaseName)
            if db.execute("SELECT 1 FROM tables WHERE db = ? AND name = ?",
                          (norm(DatabaseName), name)).fetchone():
                raise AlreadyExistsException("Table already exists.")
            db.execute("INSERT INTO tables (db, name, body, created, updated) VALUES (?, ?, ?, ?, ?)",
                       (norm(DatabaseName), name, encode(TableInput), t, t))
        return {}

    @operation
    def get_table(self, DatabaseName: str, Name: str, CatalogId: str | None = None,
                  TransactionId: str | None = None, QueryAsOfTime=None, AuditContext=None,
                  IncludeStatusDetails: bool | None = None, AttributesToGet: list | None = None) -> dict:
        db = self.store.connection()
        return {"Table": self._table_shape(self._table_row(db, DatabaseName, Name))}

    @operation
    def get_tables(self, DatabaseName: str, CatalogId: str | None = None,
                   Expression: str | None = None, NextToken: str | None = None,
                   MaxResults: int | None = None, TransactionId: str | None = None,
                   QueryAsOfTime=None, AuditContext=None, ResourceShareType: str | None = None,
                   IncludeStatusDetails: bool | None = None,
                   AttributesToGet: list | None = None) -> dict:
        limit = MaxResults or 100
        after = page_start(NextToken) or ""
        matcher = None
        if Expression:
            try:
                matcher = re.compile(Expression, re.IGNORECASE)
            except re.error:
                raise InvalidInputException(f"Invalid Expression: {Expression}") from None
        db = self.store.connection()
        self._database_row(db, DatabaseName)
        rows = db.execute("SELECT * FROM tables WHERE db = ? AND name > ? ORDER BY name",
                          (norm(DatabaseName), after)).fetchall()
        if matcher is not None:
            rows = [r for r in rows if matcher.fullmatch(r["name"])]
        rows = rows[:limit + 1]
        out: dict = {"TableList": [self._table_shape(r) for r in rows[:limit]]}
        token = page_token(rows, limit, lambda r: r["name"])
        if token:
            out["NextToken"] = token
        return out

    @operation
    def update_table(self, DatabaseName: str, TableInput: dict | None = None,
                     CatalogId: str | None = None, Name: str | None = None,
                     SkipArchive: bool | None = None, TransactionId: str | None = None,
                     VersionId: str | None = None, ViewUpdateAction: str | None = None,
                     Force: bool | None = None, UpdateOpenTableFormatInput: dict | None = None) -> dict:
        if TableInput is None:
            raise InvalidInputException("TableInput is required.")
        check_table_input(TableInput)
        with self.store.transaction() as db:
            row = self._table_row(db, DatabaseName, TableInput["Name"])
            if VersionId is not None and VersionId != str(row["version"]):
                raise ConcurrentModificationException(
                    f"Update table failed due to concurrent modifications. VersionId {VersionId} "
                    f"is not the latest version {row['version']}.")
            db.execute("UPDATE tables SET body = ?, updated = ?, version = version + 1 "
                       "WHERE db = ? AND name = ?",
                       (encode(TableInput), now(), row["db"], row["name"]))
        return {}

    @operation
    def delete_table(self, DatabaseName: str, Name: str, CatalogId: str | None = None,
                     TransactionId: str | None = None) -> dict:
        with self.store.transaction() as db:
            row = self._table_row(db, DatabaseName, Name)
            db.execute("DELETE FROM partitions WHERE db = ? AND tbl = ?", (row["db"], row["name"]))
            db.execute("DELETE FROM tables WHERE db = ? AND name = ?", (row["db"], row["name"]))
        return {}

    @operation
    def batch_delete_table(self, DatabaseName: str, TablesToDelete: list,
                           CatalogId: str | None = None, TransactionId: str | None = None) -> dict:
        errors = []
        with self.store.transaction() as db:
            self._database_row(db, DatabaseName)
            for name in TablesToDelete:
                key = (norm(DatabaseName), norm(name))
                if db.execute("SELECT 1 FROM tables WHERE db = ? AND name = ?", key).fetchone() is None:
                    errors.append({"TableName": name, "ErrorDetail": {
                        "ErrorCode": "EntityNotFoundException",
                        "ErrorMessage": f"Table {name} not found."}})
                    continue
                db.execute("DELETE FROM partitions WHERE db = ? AND tbl = ?", key)
                db.execute("DELETE FROM tables WHERE db = ? AND name = ?", key)
        return {"Errors": errors}
