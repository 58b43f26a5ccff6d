"""Glue partitions: create (one or a batch), get, list with an expression, update, delete."""
from __future__ import annotations

from local_backends.core.base import operation

from .common import now, page_start, page_token, utc
from .errors import AlreadyExistsException, EntityNotFoundException, InvalidInputException
from .expression import compile_expression
from .store import decode, encode, values_key

MAX_BATCH_CREATE = 100
MAX_BATCH_DELETE = 25


def partition_prefix(keys: list[dict], values: list[str]) -> str:
    """The Hive-style path of a partition under its table: ``k1=v1/k2=v2/``."""
    return "".join(f"{k['Name']}={v}/" for k, v in zip(keys, values))


class PartitionsMixin:
    """Operations on partitions (``CreatePartition`` ... ``BatchDeletePartition``)."""

    def _partition_keys(self, row) -> list[dict]:
        return decode(row["body"]).get("PartitionKeys") or []

    def _check_values(self, table_row, values: list[str]) -> None:
        keys = self._partition_keys(table_row)
        if len(values) != len(keys):
            raise InvalidInputException("The number of partition keys do not match the number "
                                        "of partition values")

    def _partition_shape(self, row, exclude_schema: bool = False) -> dict:
        body = decode(row["body"])
        out = {"Values": body.get("Values", []), "DatabaseName": row["db"],
               "TableName": row["tbl"], "CreationTime": utc(row["created"]),
               "CatalogId": self.account_id}
        for member in ("LastAccessTime", "StorageDescriptor", "Parameters", "LastAnalyzedTime"):
            if member in body:
                out[member] = body[member]
        if exclude_schema and "StorageDescriptor" in out:
            out["StorageDescriptor"] = {k: v for k, v in out["StorageDescriptor"].items()
                                        if k != "Columns"}
        out.setdefault("Parameters", {})
        return out

    def _insert_partition(self, db, table_row, partition: dict) -> None:
        values = partition.get("Values") or []
        self._check_values(table_row, values)
        key = (table_row["db"], table_row["name"], values_key(values))
        if db.execute("SELECT 1 FROM partitions WHERE db = ? AND tbl = ? AND vals = ?", key).fetchone():
            raise AlreadyExistsException("Partition already exists.")
        db.execute("INSERT INTO partitions (db, tbl, vals, body, created) VALUES (?, ?, ?, ?, ?)",
                   (*key, encode(partition), now()))

    def _partition_row(self, db, table_row, values: list[str]):
        row = db.execute("SELECT * FROM partitions WHERE db = ? AND tbl = ? AND vals = ?",
                         (table_row["db"], table_row["name"], values_key(values))).fetchone()
        if row is None:
            raise EntityNotFoundException("Partition not found.")
        return row

    @operation
    def create_partition(self, DatabaseName: str, TableName: str, PartitionInput: dict,
                         CatalogId: str | None = None) -> dict:
        with self.store.transaction() as db:
            table = self._table_row(db, DatabaseName, TableName)
            self._insert_partition(db, table, PartitionInput)
        return {}

    @operation
    def batch_create_partition(self, DatabaseName: str, TableName: str, PartitionInputList: list,
                               CatalogId: str | None = None) -> dict:
        if len(PartitionInputList) > MAX_BATCH_CREATE:
            raise InvalidInputException(f"The number of partitions to create cannot exceed "
                                        f"{MAX_BATCH_CREATE}")
        errors = []
        with self.store.transaction() as db:
            table = self._table_row(db, DatabaseName, TableName)
            for partition in PartitionInputList:
                try:
                    self._insert_partition(db, table, partition)
                except (AlreadyExistsException, InvalidInputException) as err:
                    errors.append({"PartitionValues": partition.get("Values") or [],
                                   "ErrorDetail": {"ErrorCode": err.code, "ErrorMessage": err.message}})
        return {"Errors": errors}

    @operation
    def get_partition(self, DatabaseName: str, TableName: str, PartitionValues: list,
                      CatalogId: str | None = None, AuditContext=None) -> dict:
        db = self.store.connection()
        table = self._table_row(db, DatabaseName, TableName)
        return {"Partition": self._partition_shape(self._partition_row(db, table, PartitionValues))}

    @operation
    def batch_get_partition(self, DatabaseName: str, TableName: str, PartitionsToGet: list,
                            CatalogId: str | None = None, AuditContext=None,
                            QuerySessionContext=None) -> dict:
        db = self.store.connection()
        table = self._table_row(db, DatabaseName, TableName)
        found = []
        for item in PartitionsToGet:
            try:
                found.append(self._partition_shape(self._partition_row(db, table, item["Values"])))
            except EntityNotFoundException:
                pass  # BatchGetPartition simply omits partitions that do not exist
        return {"Partitions": found, "UnprocessedKeys": []}

    @operation
    def get_partitions(self, DatabaseName: str, TableName: str, CatalogId: str | None = None,
                       Expression: str | None = None, NextToken: str | None = None,
                       Segment: dict | None = None, MaxResults: int | None = None,
                       ExcludeColumnSchema: bool | None = None, TransactionId: str | None = None,
                       QueryAsOfTime=None, AuditContext=None) -> dict:
        limit = MaxResults or 1000
        after = page_start(NextToken) or ""
        db = self.store.connection()
        table = self._table_row(db, DatabaseName, TableName)
        keys = self._partition_keys(table)
        rows = db.execute("SELECT * FROM partitions WHERE db = ? AND tbl = ? AND vals > ? "
                          "ORDER BY vals", (table["db"], table["name"], after)).fetchall()
        if Expression:
            predicate = compile_expression(Expression, {k["Name"].lower(): k.get("Type", "string")
                                                        for k in keys})
            names = [k["Name"].lower() for k in keys]
            rows = [r for r in rows if predicate(dict(zip(names, decode(r["body"])["Values"])))]
        rows = rows[:limit + 1]
        out: dict = {"Partitions": [self._partition_shape(r, bool(ExcludeColumnSchema))
                                    for r in rows[:limit]]}
        token = page_token(rows, limit, lambda r: r["vals"])
        if token:
            out["NextToken"] = token
        return out

    @operation
    def update_partition(self, DatabaseName: str, TableName: str, PartitionValueList: list,
                         PartitionInput: dict, CatalogId: str | None = None) -> dict:
        with self.store.transaction() as db:
            table = self._table_row(db, DatabaseName, TableName)
            row = self._partition_row(db, table, PartitionValueList)
            new_values = PartitionInput.get("Values") or PartitionValueList
            self._check_values(table, new_values)
            if values_key(new_values) != row["vals"] and db.execute(
                    "SELECT 1 FROM partitions WHERE db = ? AND tbl = ? AND vals = ?",
                    (row["db"], row["tbl"], values_key(new_values))).fetchone():
                raise AlreadyExistsException("Partition already exists.")
            body = dict(PartitionInput, Values=list(new_values))
            db.execute("UPDATE partitions SET vals = ?, body = ? WHERE db = ? AND tbl = ? AND vals = ?",
                       (values_key(new_values), encode(body), row["db"], row["tbl"], row["vals"]))
        return {}

    @operation
    def delete_partition(self, DatabaseName: str, TableName: str, PartitionValues: list,
                         CatalogId: str | None = None) -> dict:
        with self.store.transaction() as db:
            table = self._table_row(db, DatabaseName, TableName)
            row = self._partition_row(db, table, PartitionValues)
            db.execute("DELETE FROM partitions WHERE db = ? AND tbl = ? AND vals = ?",
                       (row["db"], row["tbl"], row["vals"]))
        return {}

    @operation
    def batch_delete_partition(self, DatabaseName: str, TableName: str, PartitionsToDelete: list,
                               CatalogId: str | None = None) -> dict:
        if len(PartitionsToDelete) > MAX_BATCH_DELETE:
            raise InvalidInputException(f"The number of partitions to delete cannot exceed "
                                        f"{MAX_BATCH_DELETE}")
        errors = []
        with self.store.transaction() as db:
            table = self._table_row(db, DatabaseName, TableName)
            for item in PartitionsToDelete:
                try:
                    row = self._partition_row(db, table, item["Values"])
                except EntityNotFoundException as err:
                    errors.append({"PartitionValues": item["Values"],
                                   "ErrorDetail": {"ErrorCode": err.code, "ErrorMessage": err.message}})
                    continue
                db.execute("DELETE FROM partitions WHERE db = ? AND tbl = ? AND vals = ?",
                           (row["db"], row["tbl"], row["vals"]))
        return {"Errors": errors}
