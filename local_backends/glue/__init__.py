"""The local AWS Glue Data Catalog: databases, tables and partitions in SQLite.

What Athena (local, or any other reader) needs to find data in S3: a table's columns,
its ``s3://`` location, its SerDe and input format (CSV with or without a header, JSON
lines, Parquet), and its partitions (Hive-style ``key=value/`` prefixes).
"""
from __future__ import annotations

from pathlib import Path

from local_backends.core.base import DEFAULT_ACCOUNT_ID, Backend, Peers

from .databases import DatabasesMixin
from .partitions import PartitionsMixin, partition_prefix
from .store import open_catalog
from .tables import TablesMixin


class GlueBackend(DatabasesMixin, TablesMixin, PartitionsMixin, Backend):
    """The Glue Data Catalog of one account and region, stored under ``home/glue/``."""

    service = "glue"

    def __init__(self, home: Path, region: str, account_id: str = DEFAULT_ACCOUNT_ID,
                 peers: Peers | None = None) -> None:
        super().__init__(home, region, account_id, peers)
        self.store = open_catalog(self.home, account_id, region)


__all__ = ["GlueBackend", "partition_prefix"]
