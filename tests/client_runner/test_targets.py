"""Where each service is: flag, then SERVICE_ADDR, then localhost:<default port>."""

from __future__ import annotations

import pytest

from client_runner.checks.base import Target
from client_runner.targets import TargetError, env_name, parse_address, parse_overrides, resolve


@pytest.mark.parametrize(
    ("text", "default", "want"),
    [
        ("tcp_chat:8888", None, Target("tcp_chat", 8888)),
        ("[::1]:9999", None, Target("::1", 9999)),
        ("[::1]", 9999, Target("::1", 9999)),
        ("example", 80, Target("example", 80)),
        ("7000", None, Target("localhost", 7000)),
        (":7000", None, Target("localhost", 7000)),
    ],
)
def test_parse_address_forms(text: str, default: int | None, want: Target) -> None:
    assert parse_address(text, default) == want


@pytest.mark.parametrize("text", ["", "host:", "host:0", "host:65536", "host:http", "::1:80",
                                  "[::1", "[::1]x", "host"])
def test_parse_address_rejects(text: str) -> None:
    with pytest.raises(TargetError):
        parse_address(text)


def test_env_name() -> None:
    assert env_name("tcp_chat") == "TCP_CHAT_ADDR"
    assert env_name("udp_service") == "UDP_SERVICE_ADDR"


def test_resolve_prefers_flag_then_env_then_localhost() -> None:
    ports = {"a": 1, "b": 2, "c": 3}
    env = {"A_ADDR": "env-a:10", "B_ADDR": "env-b"}
    got = resolve(["a", "b", "c", "d"], ports, {"a": "flag-a:11"}, env)
    assert got == {
        "a": Target("flag-a", 11),
        "b": Target("env-b", 2),
        "c": Target("localhost", 3),
    }  # d has no port and no address: left out, the runner says so


def test_resolve_names_the_bad_setting() -> None:
    with pytest.raises(TargetError, match="A_ADDR=nowhere:x"):
        resolve(["a"], {"a": 1}, {}, {"A_ADDR": "nowhere:x"})


def test_parse_overrides() -> None:
    assert parse_overrides(["a=h:1", " b = h:2 "]) == {"a": "h:1", "b": "h:2"}
    with pytest.raises(TargetError, match="SERVICE=HOST:PORT"):
        parse_overrides(["h:1"])
