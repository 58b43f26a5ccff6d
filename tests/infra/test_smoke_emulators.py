"""The emulator processes of the smoke tests leave nothing behind: a stopped moto server has
no process and no listening port left (the session fixtures assert the same at teardown)."""
from __future__ import annotations

from aws_ml import Session
from aws_ml.emulators import MotoServer
from tests.infra.conftest import port_is_free, process_is_gone


def test_moto_server_stops_without_leftovers():
    server = MotoServer().start()
    pid, port = server.proc.pid, server.port
    try:
        with Session(backend="moto", endpoint_url=server.endpoint_url) as session:
            assert session.client("sns").list_topics()["Topics"] == []
        assert not port_is_free(port)
    finally:
        server.stop()
    assert process_is_gone(pid)
    assert port_is_free(port)
