"""Point-in-time correct training sets from offline stores (DuckDB ``ASOF LEFT JOIN``).

Each entity row (a record identifier and a timestamp) gets, from each feature group, the
feature values of the newest offline-store row of the same identifier whose event time is
at or before the entity row's timestamp — never a value from its future. A row with no
earlier value gets NULLs, every entity row is returned once and in its order, and a
deleted-record marker (``is_deleted``) hides the values before it. Among rows of equal
event time, the last written wins (as in the online store).

The offline Parquet is read in place when S3 is the local backend (the files behind the
objects), else downloaded through the session's S3 client.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

from .groups import flush

_OFFLINE_COLUMNS = ("write_time", "api_invocation_time", "is_deleted")


@dataclass
class FeatureGroupSpec:
    """One feature group of a training set: its features (None: all) and the entity
    column holding its record identifiers (None: the identifier's own name)."""

    name: str
    features: list[str] | None = None
    join_key: str | None = None


def _spec(item) -> FeatureGroupSpec:
    if isinstance(item, FeatureGroupSpec):
        return item
    if isinstance(item, str):
        return FeatureGroupSpec(item)
    if isinstance(item, dict):
        return FeatureGroupSpec(**item)
    name, features = item
    return FeatureGroupSpec(name, list(features))


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.split("://", 1)[1].partition("/")
    return bucket, key.rstrip("/") + "/"


def offline_files(session, resolved_uri: str):
    """The offline store's Parquet as ``(paths, None)`` when the files are on this disk
    (local S3), else ``(None, arrow_table)`` read through the S3 client (None if empty)."""
    bucket, prefix = _split(resolved_uri)
    s3 = session.client("s3")
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for o in page.get("Contents", []) if o["Key"].endswith(".parquet")]
    if not keys:
        return None, None
    if session.backend_for("s3") == "local":
        backend = session.router.backend("s3", session.region)
        if hasattr(backend, "object_path"):
            return [str(backend.object_path(bucket, k)) for k in keys], None
    import pyarrow as pa
    import pyarrow.parquet as pq
    tables = [pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=k)["Body"].read())) for k in keys]
    return None, pa.concat_tables(tables, promote_options="default")


def _event_seconds_sql(column: str, kind: str) -> str:
    """SQL for seconds since the epoch of an event-time column of Feature Store type."""
    if kind == "Fractional":
        return f'CAST("{column}" AS DOUBLE)'
    return f'epoch(CAST("{column}" AS TIMESTAMPTZ))'


def _entity_seconds(series):
    """Seconds since the epoch of the entity DataFrame's timestamp column."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(series):
        return series.astype("float64")
    ts = pd.to_datetime(series, utc=True, format="ISO8601") if not pd.api.types.is_datetime64_any_dtype(series) else series
    if getattr(ts.dt, "tz", None) is None:
        ts = ts.dt.tz_localize("UTC")
    return (ts - pd.Timestamp(0, tz="UTC")).dt.total_seconds()


def point_in_time_join(session, entity_df, feature_groups: list, event_time_col: str = "event_time",
                       max_age: float | None = None, output_s3_uri: str | None = None,
                       flush_offline: bool = True, con=None):
    """A point-in-time correct training set (see the module docstring).

    :param entity_df: a DataFrame with ``event_time_col`` (datetimes, ISO-8601 strings or
        epoch seconds) and, for each group, a column of record identifiers (named as the
        group's identifier feature unless its spec gives ``join_key``).
    :param feature_groups: names, ``(name, [features])`` pairs, dicts or
        :class:`FeatureGroupSpec`.
    :param max_age: seconds; a value older than this at the entity's time is NULL (the
        ``ttl`` of Feast's feature views).
    :param output_s3_uri: if given, the set is also written there as one Parquet object
        and its URI returned instead of the DataFrame.
    """
    import duckdb
    import numpy as np
    import pandas as pd

    specs = [_spec(f) for f in feature_groups]
    if event_time_col not in entity_df.columns:
        raise ValueError(f"The 'event_time_col' parameter of point_in_time_join must name a "
                         f"column of entity_df. Got {event_time_col!r} instead.")
    sm = session.client("sagemaker")
    db = con or duckdb.connect()
    # DuckDB sees only what the join needs (keys, seconds, position); the entity columns
    # are put back beside the features by position, without a round trip through SQL.
    entity = {"__ts": _entity_seconds(entity_df[event_time_col]).to_numpy(),
              "__row": np.arange(len(entity_df))}
    taken = set(entity_df.columns)
    selects, joins = ["e.__row"], []
    for n, spec in enumerate(specs):
        desc = sm.describe_feature_group(FeatureGroupName=spec.name)
        rid, et = desc["RecordIdentifierFeatureName"], desc["EventTimeFeatureName"]
        types = {d["FeatureName"]: d["FeatureType"] for d in desc["FeatureDefinitions"]}
        key = spec.join_key or rid
        if key not in entity_df.columns:
            raise ValueError(f"entity_df has no column {key!r} to join feature group "
                             f"{spec.name} on (its record identifier is {rid!r})")
        entity.setdefault(key, entity_df[key].to_numpy())
        features = spec.features or [f for f in types if f not in (rid, et)]
        unknown = [f for f in features if f not in types]
        if unknown:
            raise ValueError(f"feature group {spec.name} has no feature(s) {unknown}")
        if not desc.get("OfflineStoreConfig"):
            raise ValueError(f"feature group {spec.name} has no offline store")
        if flush_offline:
            flush(session, spec.name)
        paths, table = offline_files(session, desc["OfflineStoreConfig"]["S3StorageConfig"]["ResolvedOutputS3Uri"])
        alias = f"g{n}"
        cols = ", ".join(f'"{f}"' for f in dict.fromkeys([rid, *features]))
        if paths is not None:
            source = f"read_parquet({paths!r}, union_by_name = true)"
        elif table is not None:
            db.register(f"__src{n}", table)
            source = f"__src{n}"
        else:  # nothing ingested yet: an empty table of the right columns
            kinds = {"Integral": "BIGINT", "Fractional": "DOUBLE", "String": "VARCHAR"}
            empty = ", ".join(f'CAST(NULL AS {kinds[types[c]]}) AS "{c}"' for c in dict.fromkeys([rid, et, *features]))
            source = f"(SELECT {empty}, CAST(NULL AS TIMESTAMP) AS write_time, FALSE AS is_deleted LIMIT 0)"
        # One row per (identifier, event time): the last written; keys in the identifier's
        # type on both sides (the entity column may hold them as text or numbers).
        key_type = "BIGINT" if types[rid] == "Integral" else "VARCHAR"
        db.execute(f"""
            CREATE OR REPLACE TEMP TABLE {alias} AS
            SELECT CAST("{rid}" AS {key_type}) AS __key, __et, is_deleted AS __deleted, {cols}
            FROM (SELECT *, {_event_seconds_sql(et, types[et])} AS __et FROM {source})
            QUALIFY row_number() OVER (PARTITION BY "{rid}", __et ORDER BY write_time DESC) = 1
        """)
        joins.append(f'ASOF LEFT JOIN {alias} ON TRY_CAST(e."{key}" AS {key_type}) = {alias}.__key '
                     f'AND e.__ts >= {alias}.__et')
        for f in features:
            out = f if f not in taken else f"{spec.name}__{f}"
            taken.add(out)
            hide = f"{alias}.__deleted"
            if max_age is not None:
                hide += f" OR e.__ts - {alias}.__et > {float(max_age)}"
            selects.append(f'CASE WHEN {hide} THEN NULL ELSE {alias}."{f}" END AS "{out}"')
    db.register("__entity", pd.DataFrame(entity))
    sql = f"SELECT {', '.join(selects)} FROM __entity e {' '.join(joins)} ORDER BY e.__row"
    found = db.execute(sql).df().drop(columns="__row")
    result = pd.concat([entity_df.reset_index(drop=True), found], axis=1)
    if output_s3_uri is None:
        return result
    import pyarrow as pa
    import pyarrow.parquet as pq
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(result, preserve_index=False), sink)
    bucket, key = output_s3_uri.split("://", 1)[1].split("/", 1)
    if key.endswith("/") or not key:
        key = f"{key}training-set.parquet"
    session.client("s3").put_object(Bucket=bucket, Key=key, Body=sink.getvalue())
    return f"s3://{bucket}/{key}"
