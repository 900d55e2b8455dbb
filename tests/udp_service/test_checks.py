"""client_runner's udp_service checks against a real server: they pass on a good one and fail
on a broken one (nothing listening, or one that loses most datagrams)."""

from __future__ import annotations

import pytest

from client_runner.checks import udp_service as checks
from client_runner.checks.base import CHECKS, CheckFailed, Context, Target

from .conftest import UdpServer, free_udp_port


def context(port: int, timeout: float = 2.0) -> Context:
    return Context(targets={"udp_service": Target("127.0.0.1", port)}, timeout=timeout,
                   settings={})


def test_every_check_passes_against_a_real_server(udp_server: UdpServer) -> None:
    port, _ = udp_server()
    ctx = context(port)
    checks.probe_udp(ctx.target("udp_service"), 2.0)
    mine = [c for c in CHECKS if c.service == "udp_service"]
    assert [c.name for c in mine] == [
        "ping RTT", "time", "echo", "broadcast to joined clients",
        "garbage then still answering", "1000 sequenced datagrams",
    ]
    details = {c.name: c.fn(ctx) for c in mine}
    assert "ms" in details["ping RTT"]
    assert details["broadcast to joined clients"] == "SENT 2 of 2"
    seq = details["1000 sequenced datagrams"]
    assert seq.startswith("1000 sent, 1000 replies, loss 0.0%, reordered 0, duplicates 0"), seq


def test_probe_fails_when_nothing_listens() -> None:
    with pytest.raises((OSError, CheckFailed)):
        checks.probe_udp(Target("127.0.0.1", free_udp_port()), 0.5)


def test_sequenced_check_fails_when_most_datagrams_are_lost(udp_server: UdpServer) -> None:
    port, _ = udp_server("--rate", "1", "--burst", "100")
    with pytest.raises(CheckFailed) as failed:
        checks.sequenced(context(port, timeout=0.5))
    assert "loss" in str(failed.value.got)


def test_broadcast_check_fails_when_broadcast_reaches_nobody(udp_server: UdpServer) -> None:
    port, _ = udp_server("--max-fanout", "0")
    with pytest.raises(CheckFailed):
        checks.broadcast(context(port, timeout=0.5))
