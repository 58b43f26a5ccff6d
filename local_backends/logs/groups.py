"""Log groups (retention, tags, classes) and log streams."""
from __future__ import annotations

import time

from local_backends.core.base import operation
from local_backends.core.state import encode_token, token_value

from . import errors

RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
                  2557, 2922, 3288, 3653)
PAGE_LIMIT = 50


def now_ms() -> int:
    return int(time.time() * 1000)


def sequence_token(seq: int) -> str:
    """A sequence token in AWS's form (56 digits); PutLogEvents no longer requires it."""
    return f"{seq:056d}"


class Groups:
    """Log group and log stream operations (mixed into :class:`local_backends.logs.LogsBackend`)."""

    # -- helpers -----------------------------------------------------------------------
    def _group_arn(self, name: str) -> str:
        return self.arn(f"log-group:{name}")

    def _resolve_group(self, logGroupName: str | None, logGroupIdentifier: str | None) -> str:
        """The group name of a call that takes ``logGroupName`` or ``logGroupIdentifier``."""
        if logGroupName is not None and logGroupIdentifier is not None:
            raise errors.InvalidParameterException(
                "LogGroup name and LogGroup ARN are mutually exclusive parameters.")
        if logGroupName is not None:
            return logGroupName
        if logGroupIdentifier is None:
            raise errors.InvalidParameterException(
                "Should provide either name or ARN of log group (logGroupName or logGroupIdentifier).")
        if logGroupIdentifier.startswith("arn:"):
            resource = logGroupIdentifier.split(":", 5)[-1]
            if not resource.startswith("log-group:"):
                raise errors.InvalidParameterException(f"Invalid log group ARN: {logGroupIdentifier}")
            name = resource[len("log-group:"):]
            return name[:-2] if name.endswith(":*") else name
        return logGroupIdentifier

    def _group_row(self, db, name: str):
        row = db.execute("SELECT * FROM groups WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise errors.no_group()
        return row

    def _group_of_arn(self, db, arn: str) -> str:
        prefix = self.arn("log-group:")
        name = arn[len(prefix):] if arn.startswith(prefix) else None
        if name and name.endswith(":*"):
            name = name[:-2]
        if not name or db.execute("SELECT 1 FROM groups WHERE name = ?", (name,)).fetchone() is None:
            raise errors.ResourceNotFoundException(f"The specified resource does not exist: {arn}")
        return name

    # -- groups ------------------------------------------------------------------------
    @operation
    def create_log_group(self, logGroupName: str, kmsKeyId: str | None = None, tags: dict | None = None,
                         logGroupClass: str | None = None, deletionProtectionEnabled: bool = False):
        if logGroupName.lower().startswith("aws/"):
            raise errors.InvalidParameterException("Log groups starting with AWS/ are reserved for AWS.")
        with self.store.transaction() as db:
            if db.execute("SELECT 1 FROM groups WHERE name = ?", (logGroupName,)).fetchone():
                raise errors.ResourceAlreadyExistsException("The specified log group already exists")
            db.execute("INSERT INTO groups (name, created, kms_key, class, deletion_protection) "
                       "VALUES (?, ?, ?, ?, ?)",
                       (logGroupName, now_ms(), kmsKeyId, logGroupClass or "STANDARD",
                        int(bool(deletionProtectionEnabled))))
            db.executemany("INSERT INTO group_tags (group_name, key, value) VALUES (?, ?, ?)",
                           [(logGroupName, k, v) for k, v in (tags or {}).items()])
        return {}

    @operation
    def delete_log_group(self, logGroupName: str):
        with self.store.transaction() as db:
            row = self._group_row(db, logGroupName)
            if row["deletion_protection"]:
                raise errors.InvalidParameterException(
                    "Log group has deletion protection enabled and cannot be deleted.")
            db.execute("DELETE FROM groups WHERE name = ?", (logGroupName,))
        return {}

    @operation
    def describe_log_groups(self, logGroupNamePrefix: str | None = None, logGroupNamePattern: str | None = None,
                            nextToken: str | None = None, limit: int | None = None,
                            logGroupClass: str | None = None, logGroupIdentifiers: list | None = None,
                            accountIdentifiers: list | None = None, includeLinkedAccounts: bool = False):
        if logGroupNamePrefix is not None and logGroupNamePattern is not None:
            raise errors.InvalidParameterException(
                "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
        after = self._token(nextToken, "after", str, "")
        sql = "SELECT * FROM groups WHERE name > ?"
        args: list = [after]
        if logGroupNamePrefix:
            sql += " AND substr(name, 1, ?) = ?"
            args += [len(logGroupNamePrefix), logGroupNamePrefix]
        if logGroupNamePattern:
            sql += " AND instr(lower(name), ?) > 0"
            args.append(logGroupNamePattern.lower())
        if logGroupClass:
            sql += " AND class = ?"
            args.append(logGroupClass)
        if logGroupIdentifiers:
            names = [self._resolve_group(None, i) for i in logGroupIdentifiers]
            sql += f" AND name IN ({','.join('?' * len(names))})"
            args += names
        page = limit or PAGE_LIMIT
        db = self.store.connection()
        rows = db.execute(sql + " ORDER BY name LIMIT ?", args + [page + 1]).fetchall()
        groups = [self._describe_group(db, r) for r in rows[:page]]
        out: dict = {"logGroups": groups}
        if len(rows) > page:
            out["nextToken"] = encode_token({"after": rows[page - 1]["name"]})
        return out

    def _describe_group(self, db, row) -> dict:
        arn = self._group_arn(row["name"])
        stored, = db.execute("SELECT COALESCE(SUM(stored_bytes), 0) FROM streams WHERE group_name = ?",
                             (row["name"],)).fetchone()
        filters, = db.execute("SELECT COUNT(*) FROM metric_filters WHERE group_name = ?",
                              (row["name"],)).fetchone()
        group = {"logGroupName": row["name"], "creationTime": row["created"]}
        if row["retention"] is not None:
            group["retentionInDays"] = row["retention"]
        group.update({"metricFilterCount": filters, "arn": f"{arn}:*", "storedBytes": stored})
        if row["kms_key"]:
            group["kmsKeyId"] = row["kms_key"]
        group.update({"logGroupClass": row["class"], "logGroupArn": arn,
                      "deletionProtectionEnabled": bool(row["deletion_protection"])})
        return group

    @operation
    def put_retention_policy(self, logGroupName: str, retentionInDays: int):
        if retentionInDays not in RETENTION_DAYS:
            raise errors.InvalidParameterException(
                f"1 validation error detected: Value '{retentionInDays}' at 'retentionInDays' failed to "
                f"satisfy constraint: Member must satisfy enum value set: "
                f"[{', '.join(map(str, RETENTION_DAYS))}]")
        with self.store.transaction() as db:
            self._group_row(db, logGroupName)
            db.execute("UPDATE groups SET retention = ? WHERE name = ?", (retentionInDays, logGroupName))
        return {}

    @operation
    def delete_retention_policy(self, logGroupName: str):
        with self.store.transaction() as db:
            self._group_row(db, logGroupName)
            db.execute("UPDATE groups SET retention = NULL WHERE name = ?", (logGroupName,))
        return {}

    # -- tags --------------------------------------------------------------------------
    @operation
    def tag_log_group(self, logGroupName: str, tags: dict):
        with self.store.transaction() as db:
            self._group_row(db, logGroupName)
            self._put_tags(db, logGroupName, tags)
        return {}

    @operation
    def untag_log_group(self, logGroupName: str, tags: list):
        with self.store.transaction() as db:
            self._group_row(db, logGroupName)
            db.executemany("DELETE FROM group_tags WHERE group_name = ? AND key = ?",
                           [(logGroupName, k) for k in tags])
        return {}

    @operation
    def list_tags_log_group(self, logGroupName: str):
        db = self.store.connection()
        self._group_row(db, logGroupName)
        return {"tags": self._tags(db, logGroupName)}

    @operation
    def tag_resource(self, resourceArn: str, tags: dict):
        with self.store.transaction() as db:
            self._put_tags(db, self._group_of_arn(db, resourceArn), tags)
        return {}

    @operation
    def untag_resource(self, resourceArn: str, tagKeys: list):
        with self.store.transaction() as db:
            name = self._group_of_arn(db, resourceArn)
            db.executemany("DELETE FROM group_tags WHERE group_name = ? AND key = ?",
                           [(name, k) for k in tagKeys])
        return {}

    @operation
    def list_tags_for_resource(self, resourceArn: str):
        db = self.store.connection()
        return {"tags": self._tags(db, self._group_of_arn(db, resourceArn))}

    def _put_tags(self, db, name: str, tags: dict) -> None:
        db.executemany("INSERT OR REPLACE INTO group_tags (group_name, key, value) VALUES (?, ?, ?)",
                       [(name, k, v) for k, v in tags.items()])
        count, = db.execute("SELECT COUNT(*) FROM group_tags WHERE group_name = ?", (name,)).fetchone()
        if count > 50:
            raise errors.InvalidParameterException("A log group can have at most 50 tags.")

    @staticmethod
    def _tags(db, name: str) -> dict:
        return dict(db.execute("SELECT key, value FROM group_tags WHERE group_name = ? ORDER BY key", (name,)))

    # -- streams -----------------------------------------------------------------------
    @operation
    def create_log_stream(self, logGroupName: str, logStreamName: str):
        with self.store.transaction() as db:
            self._group_row(db, logGroupName)
            if db.execute("SELECT 1 FROM streams WHERE group_name = ? AND name = ?",
                          (logGroupName, logStreamName)).fetchone():
                raise errors.ResourceAlreadyExistsException("The specified log stream already exists")
            db.execute("INSERT INTO streams (group_name, name, created) VALUES (?, ?, ?)",
                       (logGroupName, logStreamName, now_ms()))
        return {}

    @operation
    def delete_log_stream(self, logGroupName: str, logStreamName: str):
        with self.store.transaction() as db:
            self._group_row(db, logGroupName)
            if not db.execute("DELETE FROM streams WHERE group_name = ? AND name = ?",
                              (logGroupName, logStreamName)).rowcount:
                raise errors.no_stream()
        return {}

    @operation
    def describe_log_streams(self, logGroupName: str | None = None, logGroupIdentifier: str | None = None,
                             logStreamNamePrefix: str | None = None, orderBy: str = "LogStreamName",
                             descending: bool = False, nextToken: str | None = None,
                             limit: int | None = None):
        name = self._resolve_group(logGroupName, logGroupIdentifier)
        if orderBy == "LastEventTime" and logStreamNamePrefix:
            raise errors.InvalidParameterException("Cannot order by LastEventTime with a logStreamNamePrefix.")
        db = self.store.connection()
        self._group_row(db, name)
        offset = self._token(nextToken, "offset", int, 0)
        sql = "SELECT * FROM streams WHERE group_name = ?"
        args: list = [name]
        if logStreamNamePrefix:
            sql += " AND substr(name, 1, ?) = ?"
            args += [len(logStreamNamePrefix), logStreamNamePrefix]
        direction = "DESC" if descending else "ASC"
        if orderBy == "LastEventTime":
            sql += f" ORDER BY COALESCE(last_ts, 0) {direction}, name {direction}"
        else:
            sql += f" ORDER BY name {direction}"
        page = limit or PAGE_LIMIT
        rows = db.execute(sql + " LIMIT ? OFFSET ?", args + [page + 1, offset]).fetchall()
        streams = [self._describe_stream(name, r) for r in rows[:page]]
        out: dict = {"logStreams": streams}
        if len(rows) > page:
            out["nextToken"] = encode_token({"offset": offset + page})
        return out

    def _describe_stream(self, group: str, row) -> dict:
        stream = {"logStreamName": row["name"], "creationTime": row["created"]}
        if row["first_ts"] is not None:
            stream.update({"firstEventTimestamp": row["first_ts"], "lastEventTimestamp": row["last_ts"],
                           "lastIngestionTime": row["last_ingest"]})
        stream.update({"uploadSequenceToken": sequence_token(row["seq"] + 1),
                       "arn": self.arn(f"log-group:{group}:log-stream:{row['name']}"),
                       "storedBytes": row["stored_bytes"]})
        return stream

    @staticmethod
    def _token(token: str | None, key: str, kind: type, default):
        if token is None:
            return default
        return token_value(token, key, kind, errors.InvalidParameterException("The specified nextToken is invalid."))
