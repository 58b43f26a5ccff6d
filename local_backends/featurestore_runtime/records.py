"""Records: PutRecord, GetRecord, BatchGetRecord and DeleteRecord.

The online store keeps one row per record identifier and the newest event time wins: a
record older than the stored one never overwrites it (``ON CONFLICT ... WHERE``, inside
one SQLite transaction, so concurrent writers from several processes serialise). Every
write to the offline store is buffered in the same transaction (see
:mod:`local_backends.featurestore_common.offline`).
"""
from __future__ import annotations

import json
import time

from local_backends.core.base import operation
from local_backends.core.errors import AwsError, error_class
from local_backends.featurestore_common import FeatureGroupInfo, event_time_seconds, parse_value
from local_backends.featurestore_common.groups import TTL_SECONDS, utc

ValidationError = error_class("ValidationError", 400)

_UPSERT = """
INSERT INTO records (generation, record_id, event_time, deleted, expires_at, features)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (generation, record_id) DO UPDATE SET
    event_time = excluded.event_time, deleted = excluded.deleted,
    expires_at = excluded.expires_at, features = excluded.features
WHERE excluded.event_time >= records.event_time
"""


def _targets(info: FeatureGroupInfo, target_stores: list | None) -> tuple[bool, bool]:
    """(online, offline): which stores a write goes to (default: every enabled store)."""
    if not target_stores:
        return info.online, info.offline
    if len(set(target_stores)) != len(target_stores):
        raise ValidationError("TargetStores must not contain duplicates")
    online, offline = "OnlineStore" in target_stores, "OfflineStore" in target_stores
    if online and not info.online:
        raise ValidationError(f"FeatureGroup {info.name} does not have an OnlineStore "
                              f"(TargetStores contains OnlineStore)")
    if offline and not info.offline:
        raise ValidationError(f"FeatureGroup {info.name} does not have an OfflineStore "
                              f"(TargetStores contains OfflineStore)")
    return online, offline


def _identifier(info: FeatureGroupInfo, text: str) -> str:
    """The record identifier in its canonical string form (Integral ids as integers)."""
    try:
        value = parse_value(info.types[info.record_id], text)
    except ValueError:
        raise ValidationError(f"The RecordIdentifierValueAsString '{text}' is not a valid "
                              f"{info.types[info.record_id]} value for feature "
                              f"'{info.record_id}'") from None
    return str(value)


def _event_seconds(info: FeatureGroupInfo, text: str, what: str) -> float:
    try:
        return event_time_seconds(info.event_time_type, text)
    except ValueError:
        fmt = ("seconds since the epoch" if info.event_time_type == "Fractional"
               else "ISO-8601 yyyy-MM-dd'T'HH:mm:ssZ or yyyy-MM-dd'T'HH:mm:ss.SSSZ")
        raise ValidationError(f"{what} '{text}' of feature '{info.event_time}' is not a valid "
                              f"event time ({info.event_time_type}: {fmt})") from None


def _ttl_seconds(ttl: dict | None) -> float | None:
    return TTL_SECONDS[ttl["Unit"]] * ttl["Value"] if ttl else None


class Records:
    """The record operations of the Feature Store runtime (a mixin of the backend)."""

    # -- validation --------------------------------------------------------------------
    def _parse_record(self, info: FeatureGroupInfo, record: list[dict]) -> tuple[list, dict]:
        """The record's ``[[name, text], ...]`` and typed values; ValidationError on an
        unknown or duplicated feature, a value of the wrong type or a missing identifier
        or event time."""
        pairs, typed = [], {}
        unknown = [f["FeatureName"] for f in record if f["FeatureName"] not in info.types]
        if unknown:
            raise ValidationError(f"The following feature(s) are not defined in FeatureGroup "
                                  f"{info.name}: {unknown}")
        for f in record:
            name = f["FeatureName"]
            if name in typed:
                raise ValidationError(f"Feature '{name}' appears more than once in the Record")
            text = f.get("ValueAsString")
            if text is None:
                if f.get("ValueAsStringList") is not None:
                    raise ValidationError(f"Feature '{name}': ValueAsStringList (collection "
                                          f"features of InMemory online stores) is not "
                                          f"supported by the local Feature Store runtime")
                raise ValidationError(f"Feature '{name}' has no ValueAsString")
            try:
                typed[name] = parse_value(info.types[name], text)
            except ValueError:
                raise ValidationError(f"Value '{text}' of feature '{name}' is not a valid "
                                      f"{info.types[name]}") from None
            pairs.append([name, text])
        for required in (info.record_id, info.event_time):
            if required not in typed or typed[required] == "":
                raise ValidationError(f"The Record must contain a value for feature "
                                      f"'{required}' ("
                                      f"{'RecordIdentifierFeatureName' if required == info.record_id else 'EventTimeFeatureName'})")
        return pairs, typed

    # -- operations --------------------------------------------------------------------
    def _prepare_put(self, FeatureGroupName: str, Record: list, TargetStores: list | None,
                     TtlDuration: dict | None) -> tuple:
        """Validate one PutRecord; what :meth:`_write_put` needs (nothing written yet)."""
        info = self.groups.get(FeatureGroupName)
        online, offline = _targets(info, TargetStores)
        pairs, typed = self._parse_record(info, Record)
        texts = dict(pairs)
        record_id = _identifier(info, texts[info.record_id])
        event = _event_seconds(info, texts[info.event_time], "EventTime")
        ttl = _ttl_seconds(TtlDuration) or info.ttl_seconds
        offline_row = None
        if offline:
            offline_row = {name: typed.get(name) for name in info.order}
            offline_row.update(is_deleted=False, _event_seconds=event)
        # AWS: a record expires TtlDuration after its event time
        online_row = ((info.generation, record_id, event, 0, event + ttl if ttl else None,
                       json.dumps(pairs)) if online else None)
        return info, online_row, offline_row

    def _write_put(self, db, prepared: tuple, now: float) -> None:
        info, online_row, offline_row = prepared
        if online_row is not None:
            db.execute(_UPSERT, online_row)
        if offline_row is not None:
            offline_row.update(write_time=now, api_invocation_time=now)
            db.execute("INSERT INTO offline_buffer (generation, row) VALUES (?, ?)",
                       (info.generation, json.dumps(offline_row)))

    @operation
    def put_record(self, FeatureGroupName: str, Record: list, TargetStores: list | None = None,
                   TtlDuration: dict | None = None) -> dict:
        prepared = self._prepare_put(FeatureGroupName, Record, TargetStores, TtlDuration)
        with self.store.transaction() as db:
            self._write_put(db, prepared, time.time())
        if prepared[2] is not None:
            self._buffered(prepared[0], 1)
        return {}

    @operation
    def batch_write_record(self, Entries: list, TtlDuration: dict | None = None) -> dict:
        """Up to 25 PutRecords in one call and one transaction; an invalid entry is
        answered in ``Errors`` and the valid ones are written."""
        errors, ready = [], []
        for entry in Entries:
            try:
                ready.append(self._prepare_put(entry["FeatureGroupName"], entry["Record"],
                                               entry.get("TargetStores"),
                                               entry.get("TtlDuration") or TtlDuration))
            except AwsError as err:
                errors.append({"Entry": entry, "ErrorCode": err.code, "ErrorMessage": err.message})
        if ready:
            now = time.time()
            with self.store.transaction() as db:
                for prepared in ready:
                    self._write_put(db, prepared, now)
            counts: dict[str, list] = {}
            for info, _, offline_row in ready:
                if offline_row is not None:
                    counts.setdefault(info.generation, [info, 0])[1] += 1
            for info, n in counts.values():
                self._buffered(info, n)
        return {"Errors": errors, "UnprocessedEntries": []}

    def _online_row(self, info: FeatureGroupInfo, record_id: str):
        row = self.store.query_one(
            "SELECT features, deleted, expires_at FROM records WHERE generation = ? AND record_id = ?",
            (info.generation, record_id))
        if row is None or row["deleted"] or (row["expires_at"] is not None and row["expires_at"] <= time.time()):
            return None
        return row

    def _select(self, info: FeatureGroupInfo, row, feature_names: list | None) -> list[dict]:
        pairs = json.loads(row["features"])
        if feature_names:
            wanted = set(feature_names)
            pairs = [p for p in pairs if p[0] in wanted]
        return [{"FeatureName": n, "ValueAsString": v} for n, v in pairs]

    def _check_feature_names(self, info: FeatureGroupInfo, feature_names: list | None) -> None:
        unknown = [n for n in feature_names or () if n not in info.types]
        if unknown:
            raise ValidationError(f"The following feature(s) are not defined in FeatureGroup "
                                  f"{info.name}: {unknown}")

    @operation
    def get_record(self, FeatureGroupName: str, RecordIdentifierValueAsString: str,
                   FeatureNames: list | None = None, ExpirationTimeResponse: str | None = None) -> dict:
        info = self.groups.get(FeatureGroupName)
        if not info.online:
            raise ValidationError(f"FeatureGroup {info.name} does not have an OnlineStore")
        self._check_feature_names(info, FeatureNames)
        row = self._online_row(info, _identifier(info, RecordIdentifierValueAsString))
        if row is None:
            return {}  # AWS answers an absent record with no Record member
        out: dict = {"Record": self._select(info, row, FeatureNames)}
        if ExpirationTimeResponse == "Enabled" and row["expires_at"] is not None:
            out["ExpiresAt"] = utc(row["expires_at"]).strftime("%Y-%m-%dT%H:%M:%SZ")
        return out

    @operation
    def batch_get_record(self, Identifiers: list, ExpirationTimeResponse: str | None = None) -> dict:
        records, errors = [], []
        for ident in Identifiers:
            name = ident["FeatureGroupName"]
            ids = ident["RecordIdentifiersValueAsString"]
            try:
                info = self.groups.get(name)
                if not info.online:
                    raise ValidationError(f"FeatureGroup {info.name} does not have an OnlineStore")
                self._check_feature_names(info, ident.get("FeatureNames"))
            except AwsError as err:
                errors += [{"FeatureGroupName": name, "RecordIdentifierValueAsString": i,
                            "ErrorCode": err.code, "ErrorMessage": err.message} for i in ids]
                continue
            for record_id in ids:
                try:
                    row = self._online_row(info, _identifier(info, record_id))
                except AwsError as err:
                    errors.append({"FeatureGroupName": name, "RecordIdentifierValueAsString": record_id,
                                   "ErrorCode": err.code, "ErrorMessage": err.message})
                    continue
                if row is None:
                    continue  # absent records are left out, as on AWS
                item = {"FeatureGroupName": name, "RecordIdentifierValueAsString": record_id,
                        "Record": self._select(info, row, ident.get("FeatureNames"))}
                if ExpirationTimeResponse == "Enabled" and row["expires_at"] is not None:
                    item["ExpiresAt"] = utc(row["expires_at"]).strftime("%Y-%m-%dT%H:%M:%SZ")
                records.append(item)
        return {"Records": records, "Errors": errors, "UnprocessedIdentifiers": []}

    @operation
    def delete_record(self, FeatureGroupName: str, RecordIdentifierValueAsString: str,
                      EventTime: str, TargetStores: list | None = None,
                      DeletionMode: str | None = None) -> dict:
        info = self.groups.get(FeatureGroupName)
        online, offline = _targets(info, TargetStores)
        record_id = _identifier(info, RecordIdentifierValueAsString)
        event = _event_seconds(info, EventTime, "EventTime")
        hard = DeletionMode == "HardDelete"
        now = time.time()
        with self.store.transaction() as db:
            current = db.execute("SELECT event_time FROM records WHERE generation = ? AND record_id = ?",
                                 (info.generation, record_id)).fetchone()
            later = current is None or event > current["event_time"]
            if online and hard:
                if not later:
                    # AWS: HardDelete with an EventTime not later than the stored record's
                    # fails and writes no deleted-record marker.
                    raise ValidationError(f"EventTime: the EventTime {EventTime} of the delete "
                                          f"must be later than the EventTime of the record "
                                          f"{RecordIdentifierValueAsString} in the OnlineStore")
                db.execute("DELETE FROM records WHERE generation = ? AND record_id = ?",
                           (info.generation, record_id))
            elif online and later:  # SoftDelete: a tombstone at the delete's event time
                pairs = [[info.record_id, RecordIdentifierValueAsString], [info.event_time, EventTime]]
                db.execute(_UPSERT, (info.generation, record_id, event, 1, None, json.dumps(pairs)))
            if offline:
                row = {name: None for name in info.order}
                row[info.record_id] = parse_value(info.types[info.record_id], RecordIdentifierValueAsString)
                row[info.event_time] = parse_value(info.event_time_type, EventTime)
                row.update(write_time=now, api_invocation_time=now, is_deleted=True,
                           _event_seconds=event)
                db.execute("INSERT INTO offline_buffer (generation, row) VALUES (?, ?)",
                           (info.generation, json.dumps(row)))
        if offline:
            self._buffered(info, 1)
        return {}
