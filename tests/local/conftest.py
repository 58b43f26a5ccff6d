"""Fixtures of the real-process tests."""
from __future__ import annotations

import pytest


@pytest.fixture
def sdk_session(local_session):
    """A local session for the SageMaker Python SDK v3: sagemaker-core caches one client per
    process and region, emptied before and after so that the SDK uses this session's."""
    import sagemaker.core.utils.utils as core_utils
    client_cls = getattr(core_utils, "SageMakerClient", None)
    if client_cls is not None and hasattr(client_cls, "_instances"):
        client_cls._instances.clear()
    yield local_session
    if client_cls is not None and hasattr(client_cls, "_instances"):
        client_cls._instances.clear()
