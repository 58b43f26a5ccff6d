"""Local SageMaker Feature Store runtime (``sagemaker-featurestore-runtime``).

Records are served from the online store in SQLite (newest event time wins, durable,
shared by processes) and buffered for the offline store, which is written to S3 as
Parquet under the group's ``ResolvedOutputS3Uri`` (``year=/month=/day=/hour=`` folders of
the event time) and catalogued as a Glue table.

Offline flushes: AWS writes ingested records to the offline store within about fifteen
minutes. Here the buffer of a group is written when this process has buffered
``FLUSH_ROWS`` rows for it (env ``AWS_ML_FEATURESTORE_FLUSH_ROWS``, default 10,000),
``FLUSH_SECONDS`` after the first row this process buffered for it (env
``AWS_ML_FEATURESTORE_FLUSH_SECONDS``, default 300; a timer thread, so rows reach S3 even
when nothing more is written, as a notebook polling the offline store's folder expects),
when the session closes, and whenever :meth:`FeatureStoreRuntimeBackend.flush` is called
(``aws_ml.features.flush`` does, and ``aws_ml.features.ingest`` at its end). Buffered rows
are durable: a row buffered by a process that died is written by the next flush of its
group.
"""
from __future__ import annotations

import functools
import logging
import os
import threading
import time
from pathlib import Path

import pyarrow  # noqa: F401  (the offline store is Parquet: needs the "data" extra)
from botocore.exceptions import ClientError

from local_backends.core.base import DEFAULT_ACCOUNT_ID, Backend, Peers, service_model
from local_backends.core.errors import AwsError
from local_backends.core.validation import constraint_violations, validation_message
from local_backends.featurestore_common import OfflineWriter, ensure_glue_table, open_store

from .groups import GroupResolver
from .records import Records, ValidationError

logger = logging.getLogger("aws_ml")


@functools.lru_cache(maxsize=None)
def _input_shape(service: str, operation_name: str):
    return service_model(service).operation_model(operation_name).input_shape


class FeatureStoreRuntimeBackend(Records, Backend):
    """The Feature Store runtime of one account and region (state shared with the
    ``sagemaker`` backend's feature groups under ``home/featurestore/``)."""

    service = "sagemaker-featurestore-runtime"
    validation_error_code = "ValidationError"
    # The model's constraints (lengths, enums, patterns) are checked in :meth:`handler`,
    # where a PutRecord's Record is checked by a fast loop instead of the generic walk
    # (the walk costs more than the write itself).
    validate_constraints = False
    MAX_VALUE_LENGTH = 358400

    FLUSH_ROWS = int(os.environ.get("AWS_ML_FEATURESTORE_FLUSH_ROWS", "10000"))
    FLUSH_SECONDS = float(os.environ.get("AWS_ML_FEATURESTORE_FLUSH_SECONDS", "300"))

    def __init__(self, home: Path, region: str, account_id: str = DEFAULT_ACCOUNT_ID,
                 peers: Peers | None = None) -> None:
        super().__init__(home, region, account_id, peers)
        self.store = open_store(self.home, account_id, region)
        self.groups = GroupResolver(self.store, self.peers)
        self.writer = OfflineWriter(self.store)
        self._pending: dict[str, list] = {}   # generation -> [rows buffered here, first time]
        self._timers: dict[str, threading.Timer] = {}   # generation -> its age flush
        self._pending_lock = threading.Lock()
        self._closed = False
        self._glue_ready: set[str] = set()
        self._flush_lock = threading.Lock()

    def handler(self, operation_name: str):
        method = super().handler(operation_name)
        shape = _input_shape(self.service, operation_name)

        def checked(**params):
            if operation_name == "PutRecord":
                record = params.pop("Record")
                problems = constraint_violations(params, shape)
                params["Record"] = record
                problems += self._long_values(record, "record")
            elif operation_name == "BatchWriteRecord":
                problems = []
                for n, entry in enumerate(params["Entries"], 1):
                    rest = {k: v for k, v in entry.items() if k != "Record"}
                    problems += constraint_violations(rest, shape.members["Entries"].member)
                    problems += self._long_values(entry["Record"], f"entries.{n}.member.record")
                if len(params["Entries"]) > 25:
                    problems.append("Value at 'entries' failed to satisfy constraint: Member "
                                    "must have length less than or equal to 25")
            else:
                problems = constraint_violations(params, shape)
            if problems:
                raise ValidationError(validation_message(problems))
            return method(**params)
        return checked

    def _long_values(self, record: list, path: str) -> list[str]:
        """The model's one constraint on a Record's values: their length."""
        return [f"Value at '{path}.{i}.member.valueAsString' failed to satisfy constraint: "
                f"Member must have length less than or equal to {self.MAX_VALUE_LENGTH}"
                for i, f in enumerate(record, 1)
                if len(f.get("ValueAsString") or "") > self.MAX_VALUE_LENGTH]

    def _buffered(self, info, rows: int) -> None:
        """Count rows this process buffered; flush the group on size or age (the first row
        of a group starts its age timer)."""
        now = time.monotonic()
        with self._pending_lock:
            entry = self._pending.get(info.generation)
            if entry is None:
                entry = self._pending[info.generation] = [0, now]
                self._start_timer(info.generation)
            entry[0] += rows
            due = entry[0] >= self.FLUSH_ROWS or now - entry[1] >= self.FLUSH_SECONDS
        if due:
            self._flush_logged(info)

    def _flush_logged(self, info) -> None:
        """An automatic flush: a failure is logged, not raised."""
        try:
            self._flush_group(info)
        except (ClientError, AwsError) as err:
            # The record is committed (online store and buffer); AWS too accepts
            # writes while the offline store cannot be written. The rows stay
            # buffered for the next flush, which raises if the cause remains.
            logger.warning("aws_ml: offline store of feature group %s not written, rows "
                           "kept buffered: %s", info.name, err)

    def _start_timer(self, generation: str) -> None:
        """Flush ``generation`` in ``FLUSH_SECONDS`` (caller holds ``_pending_lock``)."""
        if self._closed:
            return
        old = self._timers.pop(generation, None)
        if old is not None:
            old.cancel()
        timer = threading.Timer(self.FLUSH_SECONDS, self._on_timer, args=(generation,))
        timer.daemon = True
        self._timers[generation] = timer
        timer.start()

    def _on_timer(self, generation: str) -> None:
        with self._pending_lock:
            self._timers.pop(generation, None)
            if self._closed or generation not in self._pending:
                return  # flushed meanwhile (size, explicit flush) or closing
        info = self.groups.by_generation(generation)
        if info is None:  # the group was deleted (its delete wrote the rows)
            with self._pending_lock:
                self._pending.pop(generation, None)
            return
        self._flush_logged(info)

    def close(self) -> None:
        """The session is closing: write the rows this instance buffered (a failure is
        logged; the rows stay buffered for a later flush) and stop the age timers."""
        with self._pending_lock:
            self._closed = True
            timers = list(self._timers.values())
            self._timers.clear()
            generations = list(self._pending)
        for timer in timers:
            timer.cancel()
        with self._flush_lock:  # a timer's flush already under way ends before the session does
            pass
        for generation in generations:
            info = self.groups.by_generation(generation)
            if info is not None:
                self._flush_logged(info)

    def _flush_group(self, info) -> int:
        with self._flush_lock:
            with self._pending_lock:
                self._pending.pop(info.generation, None)
                timer = self._timers.pop(info.generation, None)
            if timer is not None:
                timer.cancel()
            if info.generation not in self._glue_ready:
                ensure_glue_table(self.peers.client("glue"), info)
                self._glue_ready.add(info.generation)
            return self.writer.flush(info, self.peers.client("s3"))

    def flush(self, feature_group_name: str | None = None) -> int:
        """Write the buffered offline rows of one group (or of every group) to S3 now;
        returns the number of rows written."""
        if feature_group_name is not None:
            return self._flush_group(self.groups.get(feature_group_name))
        total = 0
        for row in self.store.query("SELECT DISTINCT generation FROM offline_buffer"):
            info = self.groups.by_generation(row["generation"])
            if info is not None:
                total += self._flush_group(info)
        return total


__all__ = ["FeatureStoreRuntimeBackend", "ValidationError"]
