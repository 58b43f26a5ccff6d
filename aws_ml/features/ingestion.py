"""Ingest a DataFrame into a feature group: batched, parallel, with a progress bar."""
from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from .groups import RUNTIME, flush


@dataclass
class IngestionReport:
    """What an ingestion did: rows written, rows that failed (index and error), time."""

    feature_group: str
    total: int
    succeeded: int = 0
    failed: list[tuple[object, str]] = field(default_factory=list)
    seconds: float = 0.0
    flushed: int | None = None

    @property
    def rows_per_second(self) -> float:
        return self.succeeded / self.seconds if self.seconds > 0 else float("nan")

    @property
    def ok(self) -> bool:
        return not self.failed

    def __str__(self) -> str:
        return (f"{self.feature_group}: {self.succeeded}/{self.total} rows ingested, "
                f"{len(self.failed)} failed, {self.rows_per_second:,.0f} rows/s")


def _as_strings(df, types: dict[str, str], event_time: str) -> list[list[tuple[str, str | None]]]:
    """Each row as ``[(feature, value-as-string or None), ...]`` (None: a missing value,
    left out of the record as the SageMaker SDK does)."""
    import pandas as pd

    cols = []
    for name in df.columns:
        s = df[name]
        kind = types.get(name)
        if kind is None:
            raise ValueError(f"column {name!r} is not a feature of the group "
                             f"(features: {sorted(types)})")
        null = s.isna().to_numpy()
        if name == event_time and pd.api.types.is_datetime64_any_dtype(s):
            ts = s.dt.tz_localize("UTC") if s.dt.tz is None else s.dt.tz_convert("UTC")
            text = ts.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "Z"
            if kind == "Fractional":
                text = (ts - pd.Timestamp(0, tz="UTC")).dt.total_seconds().map(repr)
        elif kind == "Integral" and pd.api.types.is_float_dtype(s):
            text = s.map(lambda v: str(int(v)) if not math.isnan(v) else None)
        elif kind == "Fractional" and pd.api.types.is_numeric_dtype(s):
            text = s.astype("float64").map(repr)
        elif pd.api.types.is_bool_dtype(s):
            text = s.astype("int64").astype(str)
        else:
            text = s.astype(str)
        values = text.to_numpy(dtype=object)
        cols.append((name, values, null))
    n = len(df)
    return [[(name, None if null[i] else values[i]) for name, values, null in cols] for i in range(n)]


BATCH_WRITE_MAX = 25
"""Entries per ``BatchWriteRecord`` call (the API's limit)."""


def _error_text(code: str, message: str) -> str:
    return f"{code}: {message}"


def _put_rows(client, feature_group: str, rows, lo: int, index, batch_write: bool = True) -> tuple[int, list]:
    """Write rows with ``BatchWriteRecord`` (25 per call) or one ``PutRecord`` per row;
    (rows written, [(position, index label, error), ...])."""
    ok, failed = 0, []
    records = [[{"FeatureName": n, "ValueAsString": v} for n, v in row if v is not None] for row in rows]
    if not batch_write:
        for offset, record in enumerate(records):
            try:
                client.put_record(FeatureGroupName=feature_group, Record=record)
                ok += 1
            except ClientError as err:
                e = err.response["Error"]
                failed.append((lo + offset, index[offset], _error_text(e["Code"], e.get("Message", ""))))
        return ok, failed
    for start in range(0, len(records), BATCH_WRITE_MAX):
        entries = [{"FeatureGroupName": feature_group, "Record": r}
                   for r in records[start:start + BATCH_WRITE_MAX]]
        try:
            answer = client.batch_write_record(Entries=entries)
        except ClientError as err:  # the whole call refused: every entry failed
            e = err.response["Error"]
            failed += [(lo + start + j, index[start + j], _error_text(e["Code"], e.get("Message", "")))
                       for j in range(len(entries))]
            continue
        bad = set()
        for error in answer.get("Errors", []) + [
                {"Entry": u, "ErrorCode": "Unprocessed", "ErrorMessage": "not processed"}
                for u in answer.get("UnprocessedEntries", [])]:
            j = next(j for j, e in enumerate(entries) if j not in bad and e == error["Entry"])
            bad.add(j)
            failed.append((lo + start + j, index[start + j],
                           _error_text(error["ErrorCode"], error.get("ErrorMessage", ""))))
        ok += len(entries) - len(bad)
    return ok, failed


def _runtime_client(session):
    """The runtime client of an ingestion. Its requests are built here, well-formed by
    construction, so botocore's client-side parameter validation (most of the cost of a
    25-record call) is turned off; the service still validates every record."""
    from botocore.config import Config
    return session.client(RUNTIME, config=Config(parameter_validation=False))


_CHILD: dict = {}


def _child_put(spec: dict, feature_group: str, rows, lo: int, index, batch_write: bool) -> tuple[int, list]:
    """In a worker process: the same PutRecord calls through the worker's own Session."""
    client = _CHILD.get("client")
    if client is None:
        from aws_ml import Session
        _CHILD["session"] = Session(**spec)
        client = _CHILD["client"] = _runtime_client(_CHILD["session"])
    return _put_rows(client, feature_group, rows, lo, index, batch_write)


def ingest(session, feature_group: str, df, max_workers: int = 4, batch_size: int = 1000,
           progress: bool = True, flush_offline: bool = True,
           max_processes: int = 1, batch_write: bool = True) -> IngestionReport:
    """Put every row of ``df`` into ``feature_group`` with ``PutRecord`` (the SageMaker
    SDK's ``FeatureGroup.ingest``), over batches of ``batch_size`` rows run by
    ``max_workers`` threads, or by ``max_processes`` worker processes (each with its own
    Session on the same state root: local backend only). A row that fails is reported
    (index and error) and the others still go in. With ``batch_write`` (default) rows go
    25 at a time with ``BatchWriteRecord``, else one ``PutRecord`` each (as the SageMaker
    SDK does). On the local runtime, the offline store is flushed at the end
    (``flush_offline``)."""
    desc = session.client("sagemaker").describe_feature_group(FeatureGroupName=feature_group)
    types = {d["FeatureName"]: d["FeatureType"] for d in desc["FeatureDefinitions"]}
    rows = _as_strings(df, types, desc["EventTimeFeatureName"])
    index = list(df.index)
    report = IngestionReport(feature_group, len(rows))
    started = time.perf_counter()
    if max_processes > 1:
        if session.backend != "local":
            raise ValueError("The 'max_processes' parameter of ingest needs the local backend "
                             "(worker processes share its state root); use max_workers.")
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        spec = {"backend": "local", "region": session.region, "home": str(session.home),
                "services": dict(session.routes)}
        pool = ProcessPoolExecutor(max_processes, mp_context=multiprocessing.get_context("spawn"))

        def submit(lo: int, hi: int):
            return pool.submit(_child_put, spec, feature_group, rows[lo:hi], lo, index[lo:hi],
                               batch_write)
    else:
        pool = ThreadPoolExecutor(max_workers=max(1, max_workers))
        client = _runtime_client(session)

        def submit(lo: int, hi: int):
            return pool.submit(_put_rows, client, feature_group, rows[lo:hi], lo, index[lo:hi],
                               batch_write)

    bar = None
    if progress:
        from rich.progress import Progress
        bar = Progress(transient=False)
        bar.start()
        task = bar.add_task(f"ingest {feature_group}", total=len(rows))
    try:
        with pool:
            futures = {submit(lo, min(lo + batch_size, len(rows))): lo
                       for lo in range(0, len(rows), batch_size)}
            for fut in as_completed(futures):
                ok, failed = fut.result()
                report.succeeded += ok
                report.failed.extend(failed)
                if bar is not None:
                    bar.update(task, advance=ok + len(failed))
    finally:
        if bar is not None:
            bar.stop()
    report.failed = [(label, msg) for _, label, msg in sorted(report.failed, key=lambda f: f[0])]
    if flush_offline and desc.get("OfflineStoreConfig"):
        report.flushed = flush(session, feature_group)
    report.seconds = time.perf_counter() - started
    return report
