"""Local Amazon S3: buckets, objects, listings and multipart uploads on the local disk.

See :mod:`local_backends.s3.store` for how bytes and metadata are kept (atomic, safe for
several processes, no key ever becomes a path).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from local_backends.core.base import DEFAULT_ACCOUNT_ID, Backend

from .buckets import Buckets
from .configuration import Configuration
from .listing import Listing
from .multipart import Multipart
from .objects import Objects
from .store import Store
from .versions import Versions


class S3Backend(Buckets, Configuration, Objects, Versions, Listing, Multipart, Backend):
    """The local S3 backend. Buckets are global (one namespace per state root) and keep
    the region they were created in."""

    service = "s3"
    validate_constraints = False  # S3 answers with its own error codes, not ValidationException

    def __init__(self, home: Path, region: str, account_id: str = DEFAULT_ACCOUNT_ID, peers=None) -> None:
        super().__init__(home, region, account_id, peers)
        self.store = Store(self.home / "s3")
        self.owner = {"DisplayName": "aws-ml",
                      "ID": hashlib.sha256(account_id.encode()).hexdigest()}

    def presign_endpoint(self, params: dict) -> str:
        """Where a presigned URL of this backend points: the local presign server (started on
        first use) with the bucket in the path (botocore appends the key)."""
        from urllib.parse import quote

        from .presign import server_url
        return f"{server_url(self.home)}/{quote(params.get('Bucket', ''), safe='')}"


__all__ = ["S3Backend"]
