"""Log events: PutLogEvents (AWS's batch rules), GetLogEvents (forward/backward tokens),
FilterLogEvents (filter patterns across streams)."""
from __future__ import annotations

import re

from local_backends.core.base import operation
from local_backends.core.state import decode_token, encode_token

from . import errors
from .groups import now_ms, sequence_token
from .patterns import compile_pattern

MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD = 26
MAX_SPAN_MS = 24 * 3600 * 1000
TOO_OLD_MS = 14 * 24 * 3600 * 1000
TOO_NEW_MS = 2 * 3600 * 1000
MAX_EVENTS = 10_000
DAY_MS = 86_400_000
_TOKEN = re.compile(r"([fb])/(\d{40,56})(?:/s)?")


def position_token(direction: str, ts: int, event_id: int) -> str:
    """A GetLogEvents token in AWS's form (``f/`` or ``b/``, 56 digits, ``/s``)."""
    return f"{direction}/{ts:036d}{event_id:020d}/s"


def event_id(ts: int, rowid: int) -> str:
    return f"{ts:036d}{rowid:020d}"


def _parse_position(token: str) -> tuple[str, int, int]:
    m = _TOKEN.fullmatch(token)
    if not m:
        raise errors.InvalidParameterException("The specified nextToken is invalid.")
    digits = m.group(2)
    return m.group(1), int(digits[:-20]), int(digits[-20:])


class Events:
    """Log event operations (mixed into :class:`local_backends.logs.LogsBackend`)."""

    def _retention_start(self, group_row, now: int) -> int:
        days = group_row["retention"]
        return now - days * DAY_MS if days else -1

    # -- PutLogEvents ------------------------------------------------------------------
    @operation
    def put_log_events(self, logGroupName: str, logStreamName: str, logEvents: list,
                       sequenceToken: str | None = None, entity: dict | None = None):
        size = sum(len(e["message"].encode("utf-8")) + EVENT_OVERHEAD for e in logEvents)
        if size > MAX_BATCH_BYTES:
            raise errors.InvalidParameterException(
                f"Upload too large: {size} bytes exceeds limit of {MAX_BATCH_BYTES}")
        stamps = [e["timestamp"] for e in logEvents]
        if any(a > b for a, b in zip(stamps, stamps[1:])):
            raise errors.InvalidParameterException(
                "Log events in a single PutLogEvents request must be in chronological order.")
        if stamps[-1] - stamps[0] > MAX_SPAN_MS:
            raise errors.InvalidParameterException(
                "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
        now = now_ms()
        with self.store.transaction() as db:
            group = self._group_row(db, logGroupName)
            stream = db.execute("SELECT seq FROM streams WHERE group_name = ? AND name = ?",
                                (logGroupName, logStreamName)).fetchone()
            if stream is None:
                raise errors.no_stream()
            rejected: dict = {}
            expired_before = self._retention_start(group, now)
            accepted = []
            for i, e in enumerate(logEvents):
                ts = e["timestamp"]
                if ts < now - TOO_OLD_MS:
                    rejected["tooOldLogEventEndIndex"] = i
                elif ts > now + TOO_NEW_MS:
                    rejected.setdefault("tooNewLogEventStartIndex", i)
                elif ts < expired_before:
                    rejected["expiredLogEventEndIndex"] = i
                else:
                    accepted.append((logGroupName, logStreamName, ts, now, e["message"]))
            if accepted:
                db.executemany("INSERT INTO events (group_name, stream, ts, ingest, message) "
                               "VALUES (?, ?, ?, ?, ?)", accepted)
                db.execute(
                    "UPDATE streams SET first_ts = MIN(COALESCE(first_ts, ?), ?), "
                    "last_ts = MAX(COALESCE(last_ts, ?), ?), last_ingest = ?, "
                    "stored_bytes = stored_bytes + ?, seq = seq + 1 WHERE group_name = ? AND name = ?",
                    (accepted[0][2], accepted[0][2], accepted[-1][2], accepted[-1][2], now,
                     sum(len(a[4].encode("utf-8")) for a in accepted), logGroupName, logStreamName))
                seq = stream["seq"] + 1
            else:
                seq = stream["seq"]
        if accepted:
            self._publish_metric_filters(logGroupName, [(a[2], a[4]) for a in accepted])
        out: dict = {"nextSequenceToken": sequence_token(seq + 1)}
        if rejected:
            out["rejectedLogEventsInfo"] = rejected
        return out

    # -- GetLogEvents ------------------------------------------------------------------
    @operation
    def get_log_events(self, logStreamName: str, logGroupName: str | None = None,
                       logGroupIdentifier: str | None = None, startTime: int | None = None,
                       endTime: int | None = None, nextToken: str | None = None, limit: int | None = None,
                       startFromHead: bool = False, unmask: bool = False):
        name = self._resolve_group(logGroupName, logGroupIdentifier)
        direction = ts = rowid = None
        if nextToken is not None:
            direction, ts, rowid = _parse_position(nextToken)
        db = self.store.connection()
        group = self._group_row(db, name)
        if db.execute("SELECT 1 FROM streams WHERE group_name = ? AND name = ?",
                      (name, logStreamName)).fetchone() is None:
            raise errors.no_stream()
        start = max(startTime if startTime is not None else -1, self._retention_start(group, now_ms()))
        sql = "SELECT id, ts, ingest, message FROM events WHERE group_name = ? AND stream = ? AND ts >= ?"
        args: list = [name, logStreamName, start]
        if endTime is not None:
            sql += " AND ts < ?"
            args.append(endTime)
        forward = direction == "f" or (direction is None and startFromHead)
        if direction is not None:
            sql += " AND (ts, id) > (?, ?)" if direction == "f" else " AND (ts, id) < (?, ?)"
            args += [ts, rowid]
        sql += " ORDER BY ts, id" if forward else " ORDER BY ts DESC, id DESC"
        page = limit or MAX_EVENTS
        rows, size = [], 0
        for r in db.execute(sql + " LIMIT ?", args + [page]):
            size += len(r["message"].encode("utf-8")) + EVENT_OVERHEAD
            if size > MAX_BATCH_BYTES and rows:
                break
            rows.append(r)
        if not forward:
            rows.reverse()
        events = [{"timestamp": r["ts"], "message": r["message"], "ingestionTime": r["ingest"]} for r in rows]
        if rows:
            fwd = position_token("f", rows[-1]["ts"], rows[-1]["id"])
            back = position_token("b", rows[0]["ts"], rows[0]["id"])
        elif nextToken is not None:
            # At either end AWS hands back the token it was given.
            fwd = nextToken if direction == "f" else position_token("f", ts, rowid)
            back = nextToken if direction == "b" else position_token("b", ts, rowid)
        else:
            fwd, back = position_token("f", 0, 0), position_token("b", 0, 0)
        return {"events": events, "nextForwardToken": fwd, "nextBackwardToken": back}

    # -- FilterLogEvents ---------------------------------------------------------------
    @operation
    def filter_log_events(self, logGroupName: str | None = None, logGroupIdentifier: str | None = None,
                          logStreamNames: list | None = None, logStreamNamePrefix: str | None = None,
                          startTime: int | None = None, endTime: int | None = None,
                          filterPattern: str | None = None, nextToken: str | None = None,
                          limit: int | None = None, interleaved: bool | None = None,
                          startFromHead: bool | None = None, unmask: bool = False):
        name = self._resolve_group(logGroupName, logGroupIdentifier)
        if logStreamNames and logStreamNamePrefix:
            raise errors.InvalidParameterException(
                "logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
        matches = compile_pattern(filterPattern)
        after = None
        if nextToken is not None:
            state = decode_token(nextToken)
            if state is None or not (isinstance(state.get("after"), list) and len(state["after"]) == 2):
                raise errors.InvalidParameterException("The specified nextToken is invalid.")
            after = state["after"]
        db = self.store.connection()
        group = self._group_row(db, name)
        start = max(startTime if startTime is not None else -1, self._retention_start(group, now_ms()))
        sql = "SELECT id, stream, ts, ingest, message FROM events WHERE group_name = ? AND ts >= ?"
        args: list = [name, start]
        if endTime is not None:
            sql += " AND ts <= ?"
            args.append(endTime)
        if logStreamNames:
            sql += f" AND stream IN ({','.join('?' * len(logStreamNames))})"
            args += logStreamNames
        if logStreamNamePrefix:
            sql += " AND substr(stream, 1, ?) = ?"
            args += [len(logStreamNamePrefix), logStreamNamePrefix]
        if after is not None:
            sql += " AND (ts, id) > (?, ?)"
            args += after
        page = limit or MAX_EVENTS
        events, last, more, size = [], None, False, 0
        for r in db.execute(sql + " ORDER BY ts, id", args):
            if not matches(r["message"]):
                continue
            size += len(r["message"].encode("utf-8")) + EVENT_OVERHEAD
            if len(events) == page or (size > MAX_BATCH_BYTES and events):
                more = True
                break
            events.append({"logStreamName": r["stream"], "timestamp": r["ts"], "message": r["message"],
                           "ingestionTime": r["ingest"], "eventId": event_id(r["ts"], r["id"])})
            last = (r["ts"], r["id"])
        out: dict = {"events": events}
        if more:
            out["nextToken"] = encode_token({"after": list(last)})
        return out
