"""The Glue Data Catalog as Athena sees it: the local Glue backend, or a glue client.

On the ``local`` backend the Glue backend is called directly (no botocore round trip);
elsewhere (``moto``) the session's glue client is used, so tables created there are
the ones queried here.
"""
from __future__ import annotations

from botocore.exceptions import ClientError

from local_backends.core.errors import AwsError


class CatalogError(Exception):
    """A Glue call failed: ``code`` is Glue's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Catalog:
    """Glue operations Athena needs, the same on every backend."""

    def __init__(self, peers) -> None:
        self._local = peers.local("glue")
        self._client = None if self._local is not None else peers.client("glue")

    def call(self, operation: str, **params) -> dict:
        try:
            if self._local is not None:
                return getattr(self._local, operation)(**params)
            return getattr(self._client, operation)(**params)
        except AwsError as err:
            raise CatalogError(err.code, err.message) from None
        except ClientError as err:
            error = err.response.get("Error", {})
            raise CatalogError(error.get("Code", "InternalServiceException"),
                               error.get("Message", str(err))) from None

    def get_table(self, database: str, name: str) -> dict | None:
        try:
            return self.call("get_table", DatabaseName=database, Name=name)["Table"]
        except CatalogError as err:
            if err.code == "EntityNotFoundException":
                return None
            raise

    def database_exists(self, database: str) -> bool:
        try:
            self.call("get_database", Name=database)
            return True
        except CatalogError as err:
            if err.code == "EntityNotFoundException":
                return False
            raise

    def _all(self, operation: str, key: str, **params) -> list[dict]:
        out, token = [], None
        while True:
            page = self.call(operation, **params, **({"NextToken": token} if token else {}))
            out.extend(page.get(key, []))
            token = page.get("NextToken")
            if not token:
                return out

    def partitions(self, database: str, name: str) -> list[dict]:
        return self._all("get_partitions", "Partitions", DatabaseName=database, TableName=name)

    def tables(self, database: str) -> list[dict]:
        return self._all("get_tables", "TableList", DatabaseName=database)

    def databases(self) -> list[dict]:
        return self._all("get_databases", "DatabaseList")
