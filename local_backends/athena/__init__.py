"""The local Amazon Athena: Athena's SQL run on DuckDB over the tables of the Glue catalog.

Queries are asynchronous (a thread pool; records in SQLite so other processes see them),
read the S3 objects that Glue tables point to (in place on the local S3, through a
download cache elsewhere), and write their results to the output location as Athena
does (``<id>.csv`` and ``<id>.csv.metadata``).
"""
from .backend import AthenaBackend

__all__ = ["AthenaBackend"]
