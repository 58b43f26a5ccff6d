"""Local Amazon SNS: topics (attributes, tags), subscriptions, and publishing.

Published messages are checked as SNS checks them and kept on disk; :meth:`SNSBackend.published`
reads them back (how tests see what an alarm sent). HTTP(S) subscriptions to 127.0.0.1 are
confirmed and delivered to as SNS does (:mod:`.delivery`); no other endpoint is contacted.
"""
from __future__ import annotations

from pathlib import Path

from local_backends.core.base import DEFAULT_ACCOUNT_ID, Backend, Peers

from .delivery import Delivery
from .publish import Publish
from .store import open_store
from .subscriptions import Subscriptions
from .topics import Topics


class SNSBackend(Topics, Subscriptions, Publish, Delivery, Backend):
    """The SNS topics of one account and region, stored under ``home/sns/``."""

    service = "sns"
    validation_error_code = "InvalidParameter"

    def __init__(self, home: Path, region: str, account_id: str = DEFAULT_ACCOUNT_ID,
                 peers: Peers | None = None) -> None:
        super().__init__(home, region, account_id, peers)
        self.store = open_store(self.home, account_id, region)


__all__ = ["SNSBackend"]
