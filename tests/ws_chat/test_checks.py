"""client_runner's ws_chat checks against real servers: they pass on a good stack and fail
(CheckFailed or OSError) where the server misbehaves."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from client_runner.checks import ws_chat as checks
from client_runner.checks.base import REGISTRY, CheckFailed, Context, Target
from tests.ws_chat.helpers import Stack, start_stack

RunService = Callable[..., subprocess.Popen[bytes]]
ALL = [checks.handshake, checks.bad_origin, checks.ws_to_tcp, checks.tcp_to_ws, checks.oversize]


def context(stack: Stack, **settings: str) -> Context:
    targets = {
        "ws_chat": Target("127.0.0.1", stack.ws_port),
        "tcp_chat": Target("127.0.0.1", stack.chat_port),
    }
    return Context(targets, timeout=5.0, settings={"WS_CHAT_ORIGIN": stack.origin, **settings})


def test_registered_in_order_with_default_port() -> None:
    assert REGISTRY.default_ports["ws_chat"] == 8765
    names = [c.name for c in REGISTRY.checks_of("ws_chat")]
    assert names == [
        "handshake",
        "bad Origin refused",
        "WebSocket line reaches TCP",
        "TCP line reaches WebSocket",
        "oversize message closes with 1009",
    ]


def test_all_checks_pass_on_a_good_stack(run_service: RunService, tmp_path: Path) -> None:
    stack = start_stack(run_service, tmp_path)
    ctx = context(stack)
    checks.probe_page(ctx.target("ws_chat"), 2.0)
    for fn in ALL:
        detail = fn(ctx)
        assert detail, fn.__name__


def test_probe_fails_when_nothing_listens() -> None:
    from tests.conftest import free_port

    with pytest.raises(OSError):
        checks.probe_page(Target("127.0.0.1", free_port()), 1.0)


def test_checks_fail_when_tcp_chat_is_down(run_service: RunService, tmp_path: Path) -> None:
    stack = start_stack(run_service, tmp_path, with_chat=False)
    with pytest.raises(CheckFailed):  # the unavailable line and 1013 instead of a welcome
        checks.handshake(context(stack))
    with pytest.raises(OSError):
        checks.tcp_to_ws(context(stack))


def test_bad_origin_check_fails_when_the_origin_is_allowed(
    run_service: RunService, tmp_path: Path
) -> None:
    stack = start_stack(run_service, tmp_path)
    # The runner's Origin is not on this server's list: the handshake check sees the 403.
    with pytest.raises(Exception, match="403"):
        checks.handshake(context(stack, WS_CHAT_ORIGIN="http://elsewhere.example"))
    other = start_stack(run_service, tmp_path, "--origins", checks.FOREIGN_ORIGIN)
    with pytest.raises(CheckFailed, match="accepted"):
        checks.bad_origin(context(other, WS_CHAT_ORIGIN=checks.FOREIGN_ORIGIN))


def test_oversize_check_fails_when_the_limit_is_higher(
    run_service: RunService, tmp_path: Path
) -> None:
    stack = start_stack(run_service, tmp_path, "--max-message-bytes", "8000")
    with pytest.raises(CheckFailed, match="answered instead of closed"):
        checks.oversize(context(stack))
    # Told the real limit, the check passes again.
    assert "1009" in checks.oversize(context(stack, WS_CHAT_MAX_MESSAGE_BYTES="8000"))
