"""Query executions: start, poll, page results, stop, list — run in a thread pool.

A query is recorded QUEUED in SQLite, then a worker thread moves it to RUNNING and to
SUCCEEDED, FAILED or CANCELLED (a state only moves forward: a cancelled query's late
result is dropped). Another process sees the same records; a query whose process died
is reported FAILED instead of RUNNING forever.
"""
from __future__ import annotations


import json
import logging
import os
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from local_backends.core.base import operation
from local_backends.core.processes import process_alive
from local_backends.core.state import decode_token, encode_token, token_value

from .catalog import Catalog
from .dialect import Statement, parse
from .errors import InvalidRequestException, QueryError
from .results import (MAX_PAGE, ResultFile, column_info, csv_bytes, engine_query_id, metadata_bytes,
                      text_bytes)
from .runner import Outcome, Runner
from .storage import Storage, split_uri
from .workgroups import ENGINE_VERSION, PRIMARY, utc

logger = logging.getLogger("aws_ml.athena")

WORKERS = 4
_PROCESS = f"{os.getpid()}-{uuid.uuid4().hex}"
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_active: dict[str, Runner | None] = {}   # queries this process runs -> their runner
_stopped: set[str] = set()               # queries stopped while this process runs them
_FINAL = ("SUCCEEDED", "FAILED", "CANCELLED")


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="athena-query")
    return _pool


def _bind_parameters(sql: str, params: list[str] | None) -> str:
    """Athena's ``ExecutionParameters``: each ``?`` outside quotes takes the next value as written."""
    if not params:
        return sql
    out, i, values = [], 0, list(params)
    for token in re.split(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")", sql):
        if token[:1] in ("'", '"'):
            out.append(token)
            continue
        pieces = token.split("?")
        for j, piece in enumerate(pieces):
            out.append(piece)
            if j < len(pieces) - 1:
                if i >= len(values):
                    raise InvalidRequestException("The query has more parameters (?) than "
                                                  "ExecutionParameters were given")
                out.append(values[i])
                i += 1
    if i != len(values):
        raise InvalidRequestException("ExecutionParameters has more values than the query has parameters")
    return "".join(out)


class ExecutionsMixin:
    """``StartQueryExecution`` ... ``ListQueryExecutions`` and ``GetQueryResults``."""

    # -- records -------------------------------------------------------------------------
    def _row(self, query_id: str):
        row = self.store.query_one("SELECT * FROM executions WHERE id = ?", (query_id,))
        if row is None:
            raise InvalidRequestException(f"QueryExecution {query_id} was not found")
        if row["state"] not in _FINAL and not self._runner_alive(row):
            self._finish(query_id, "FAILED", reason="INTERNAL_ERROR_QUERY_ENGINE: the process running "
                         "this query exited before it finished", category=1, from_states=("QUEUED", "RUNNING"))
            row = self.store.query_one("SELECT * FROM executions WHERE id = ?", (query_id,))
        return row

    @staticmethod
    def _runner_alive(row) -> bool:
        if row["runner"] == _PROCESS:
            return row["id"] in _active
        pid = row["pid"]
        if pid == os.getpid():
            return False  # another incarnation of this pid (a fork or a reused id): not running here
        return process_alive(pid)

    def _execution(self, row) -> dict:
        status: dict = {"State": row["state"], "SubmissionDateTime": utc(row["submitted"])}
        if row["completed"] is not None:
            status["CompletionDateTime"] = utc(row["completed"])
        if row["reason"]:
            status["StateChangeReason"] = row["reason"]
        if row["error"]:
            status["AthenaError"] = json.loads(row["error"])
        stats: dict = {"DataScannedInBytes": row["scanned"] or 0,
                       "ResultReuseInformation": {"ReusedPreviousResult": False}}
        queue_ms = int(((row["started"] or row["completed"] or time.time()) - row["submitted"]) * 1000)
        stats["QueryQueueTimeInMillis"] = max(0, queue_ms)
        if row["state"] in _FINAL:
            total = int(((row["completed"] or row["submitted"]) - row["submitted"]) * 1000)
            engine = row["engine_ms"] or 0
            stats.update({"EngineExecutionTimeInMillis": engine, "TotalExecutionTimeInMillis": total,
                          "ServicePreProcessingTimeInMillis": 0, "QueryPlanningTimeInMillis": 0,
                          "ServiceProcessingTimeInMillis": max(0, total - engine - max(0, queue_ms))})
        result_conf = json.loads(row["result_conf"])
        out = {
            "QueryExecutionId": row["id"], "Query": row["query"], "StatementType": row["statement_type"],
            "ResultConfiguration": result_conf,
            "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": False}},
            "QueryExecutionContext": json.loads(row["context"]), "Status": status,
            "Statistics": stats, "WorkGroup": row["workgroup"], "EngineVersion": dict(ENGINE_VERSION),
        }
        if row["substatement"]:
            out["SubstatementType"] = row["substatement"]
        return out

    def _finish(self, query_id: str, state: str, *, reason: str | None = None, category: int = 2,
                from_states: tuple = ("RUNNING",), **fields) -> bool:
        """Move a query to a final state if it is still in ``from_states``."""
        cols = {"state": state, "completed": time.time(), "reason": reason, **fields}
        if state == "FAILED":
            cols["error"] = json.dumps({"ErrorCategory": category, "ErrorType": 1000 if category == 1 else 1100,
                                        "Retryable": category == 1, "ErrorMessage": reason or ""})
        sets = ", ".join(f"{k} = ?" for k in cols)
        marks = ", ".join("?" for _ in from_states)
        with self.store.transaction() as db:
            cur = db.execute(f"UPDATE executions SET {sets} WHERE id = ? AND state IN ({marks})",
                             (*cols.values(), query_id, *from_states))
            return cur.rowcount == 1

    # -- operations ------------------------------------------------------------------------
    @operation
    def start_query_execution(self, QueryString: str, ClientRequestToken: str | None = None,
                              QueryExecutionContext: dict | None = None,
                              ResultConfiguration: dict | None = None, WorkGroup: str | None = None,
                              ExecutionParameters: list | None = None,
                              ResultReuseConfiguration: dict | None = None,
                              EngineConfiguration: dict | None = None) -> dict:
        workgroup = self.workgroup(WorkGroup or PRIMARY)
        if workgroup["State"] != "ENABLED":
            raise InvalidRequestException(f"WorkGroup {workgroup['Name']} is disabled.")
        if ClientRequestToken:
            row = self.store.query_one("SELECT id FROM executions WHERE client_token = ?", (ClientRequestToken,))
            if row is not None:
                return {"QueryExecutionId": row["id"]}
        wg_result = (workgroup["Configuration"].get("ResultConfiguration") or {})
        client_result = ResultConfiguration or {}
        if workgroup["Configuration"].get("EnforceWorkGroupConfiguration") and wg_result.get("OutputLocation"):
            result = dict(wg_result)
        elif client_result.get("OutputLocation"):
            result = dict(client_result)
        else:
            result = dict(wg_result)
        output = result.get("OutputLocation")
        if not output:
            raise InvalidRequestException("No output location provided. An output location is required "
                                          "either through the Workgroup result configuration setting or "
                                          "as an API input.")
        try:
            split_uri(output)
        except ValueError:
            raise InvalidRequestException(f"outputLocation is not a valid S3 path: {output}") from None
        sql = _bind_parameters(QueryString, ExecutionParameters)
        context = dict(QueryExecutionContext or {})
        catalog = (context.get("Catalog") or "AwsDataCatalog")
        try:
            stmt: Statement | QueryError = parse(sql)
        except QueryError as err:
            stmt = err
        statement_type = stmt.statement_type if isinstance(stmt, Statement) else "DML"
        substatement = stmt.substatement if isinstance(stmt, Statement) else None
        query_id = str(uuid.uuid4())
        suffix = ".csv" if statement_type == "DML" or (isinstance(stmt, Statement) and stmt.kind == "CTAS") else ".txt"
        shown_result = dict(result, OutputLocation=f"{output.rstrip('/')}/{query_id}{suffix}")
        with self.store.transaction() as db:
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM executions").fetchone()[0]
            db.execute(
                "INSERT INTO executions (id, seq, workgroup, query, statement_type, substatement, context, "
                "result_conf, state, submitted, pid, runner, client_token) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'QUEUED', ?, ?, ?, ?)",
                (query_id, seq, workgroup["Name"], QueryString, statement_type, substatement,
                 json.dumps(context), json.dumps(shown_result), time.time(), os.getpid(), _PROCESS,
                 ClientRequestToken))
        _active[query_id] = None
        database = (context.get("Database") or "default").lower()
        _executor().submit(self._work, query_id, stmt, database, catalog, output)
        return {"QueryExecutionId": query_id}

    def _work(self, query_id: str, stmt, database: str, catalog_name: str, output: str) -> None:
        """The worker thread of one query: run it, store its result, record its final state."""
        try:
            with self.store.transaction() as db:
                if db.execute("UPDATE executions SET state = 'RUNNING', started = ? WHERE id = ? "
                              "AND state = 'QUEUED'", (time.time(), query_id)).rowcount == 0:
                    return  # cancelled while queued
            started = time.time()
            runner = None
            try:
                if isinstance(stmt, QueryError):
                    raise stmt
                if catalog_name.lower() != "awsdatacatalog":
                    raise QueryError("CATALOG_NOT_FOUND", f"Catalog '{catalog_name.lower()}' does not exist")
                runner = Runner(Catalog(self.peers), self._storage(), self.home / "athena" / "work" / query_id,
                                database, output, query_id, self._cancel_check(query_id))
                _active[query_id] = runner
                outcome = runner.run(stmt)
                engine_ms = int((time.time() - started) * 1000)
                self._store_result(query_id, output, outcome)
                self._finish(query_id, "SUCCEEDED", engine_ms=engine_ms, scanned=outcome.scanned,
                             update_count=outcome.update_count, has_header=int(outcome.header),
                             columns=json.dumps(column_info(outcome.names, outcome.types)))
            except QueryError as err:
                self._finish(query_id, "FAILED", reason=err.reason, category=err.category,
                             engine_ms=int((time.time() - started) * 1000))
            except Exception as err:  # noqa: BLE001 - a query never ends with a traceback
                logger.exception("athena query %s failed", query_id)
                reason = _internal_reason(err)
                self._finish(query_id, "FAILED", reason=reason, category=1,
                             engine_ms=int((time.time() - started) * 1000))
            finally:
                if runner is not None and runner.qdb is not None:
                    runner.qdb.close()
        finally:
            _active.pop(query_id, None)
            _stopped.discard(query_id)

    def _cancel_check(self, query_id: str) -> Callable[[], bool]:
        """Whether the query was stopped: by this process at once, by another within ~0.5 s."""
        last = [0.0]

        def cancelled() -> bool:
            if query_id in _stopped:
                return True
            now = time.monotonic()
            if now - last[0] < 0.5:
                return False
            last[0] = now
            row = self.store.query_one("SELECT state FROM executions WHERE id = ?", (query_id,))
            return row is None or row["state"] == "CANCELLED"
        return cancelled

    def _store_result(self, query_id: str, output: str, outcome: Outcome) -> None:
        ResultFile(self._result_path(query_id)).write(outcome.strings)
        base = f"{output.rstrip('/')}/{query_id}"
        try:
            if outcome.kind == "csv":
                columns = column_info(outcome.names, outcome.types)
                self._storage().put(base + ".csv", csv_bytes(outcome.names, outcome.strings), "text/csv")
                self._storage().put(base + ".csv.metadata", metadata_bytes(columns, engine_query_id(time.time())))
            else:
                self._storage().put(base + ".txt", text_bytes(outcome.strings), "text/plain")
        except Exception as err:  # noqa: BLE001 - reported as the query's failure
            code = getattr(err, "response", {}).get("Error", {}).get("Code", type(err).__name__)
            bucket = split_uri(output)[0]
            raise QueryError("", f"Unable to verify/create output bucket {bucket} ({code})") from None

    def _result_path(self, query_id: str):
        return self.home / "athena" / self.account_id / self.region / "results" / f"{query_id}.arrow"

    def _storage(self) -> Storage:
        return Storage(self.peers, self.home / "athena" / "cache")

    @operation
    def get_query_execution(self, QueryExecutionId: str) -> dict:
        return {"QueryExecution": self._execution(self._row(QueryExecutionId))}

    @operation
    def batch_get_query_execution(self, QueryExecutionIds: list) -> dict:
        found, missing = [], []
        for query_id in QueryExecutionIds:
            try:
                found.append(self._execution(self._row(query_id)))
            except InvalidRequestException as err:
                missing.append({"QueryExecutionId": query_id, "ErrorCode": "INVALID_INPUT",
                                "ErrorMessage": err.message})
        return {"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing}

    @operation
    def list_query_executions(self, NextToken: str | None = None, MaxResults: int | None = None,
                              WorkGroup: str | None = None) -> dict:
        workgroup = self.workgroup(WorkGroup or PRIMARY)["Name"]
        limit = MaxResults or 50
        before = None
        if NextToken is not None:
            before = token_value(NextToken, "before", int, InvalidRequestException("Invalid NextToken"))
        rows = self.store.query("SELECT id, seq FROM executions WHERE workgroup = ? AND seq < ? "
                                "ORDER BY seq DESC LIMIT ?", (workgroup, before or 2 ** 62, limit + 1))
        out: dict = {"QueryExecutionIds": [r["id"] for r in rows[:limit]]}
        if len(rows) > limit:
            out["NextToken"] = encode_token({"before": rows[limit - 1]["seq"]})
        return out

    @operation
    def stop_query_execution(self, QueryExecutionId: str) -> dict:
        row = self._row(QueryExecutionId)
        if row["state"] in _FINAL:
            return {}
        if QueryExecutionId in _active:
            _stopped.add(QueryExecutionId)   # the worker's watcher interrupts DuckDB
        self._finish(QueryExecutionId, "CANCELLED", reason="Query cancelled by user",
                     from_states=("QUEUED", "RUNNING"))
        return {}

    @operation
    def get_query_results(self, QueryExecutionId: str, NextToken: str | None = None,
                          MaxResults: int | None = None, QueryResultType: str | None = None) -> dict:
        row = self._row(QueryExecutionId)
        state = row["state"]
        if state in ("QUEUED", "RUNNING"):
            raise InvalidRequestException(f"Query has not yet finished. Current state: {state}")
        if state != "SUCCEEDED":
            raise InvalidRequestException(f"Query did not finish successfully. Final query state: {state}"
                                          + (f" ({row['reason']})" if row["reason"] else ""))
        limit = min(MaxResults or MAX_PAGE, MAX_PAGE)
        offset = 0
        if NextToken is not None:
            tok = decode_token(NextToken)
            if tok is None or tok.get("q") != QueryExecutionId or not isinstance(tok.get("o"), int):
                raise InvalidRequestException("Invalid NextToken")
            offset = tok["o"]
        columns = json.loads(row["columns"] or "[]")
        header = bool(row["has_header"]) and bool(columns)
        rows: list[dict] = []
        data_start = offset
        if header:
            if offset == 0:
                rows.append({"Data": [{"VarCharValue": c["Label"]} for c in columns]})
            data_start = max(0, offset - 1)
        data, total = ResultFile(self._result_path(QueryExecutionId)).rows(data_start, limit - len(rows))
        rows.extend(data)
        consumed = offset + len(rows)
        out: dict = {"UpdateCount": row["update_count"] or 0,
                     "ResultSet": {"Rows": rows, "ResultSetMetadata": {"ColumnInfo": columns}}}
        if consumed < total + (1 if header else 0):
            out["NextToken"] = encode_token({"q": QueryExecutionId, "o": consumed})
        return out


def _internal_reason(err: Exception) -> str:
    text = str(err).split("\n")[0] or type(err).__name__
    return f"GENERIC_INTERNAL_ERROR: {text}"
