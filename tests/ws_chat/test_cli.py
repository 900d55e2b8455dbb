"""Flags and their WS_CHAT_* environment variables."""

from __future__ import annotations

import pytest

from ws_chat.cli import build_parser, parse_chat_addr, settings_from
from ws_chat.config import Settings


def test_defaults_match_the_settings_defaults() -> None:
    assert settings_from(build_parser({}).parse_args([])) == Settings()


def test_env_and_flags() -> None:
    env = {
        "WS_CHAT_PORT": "9000",
        "WS_CHAT_CHAT_ADDR": "tcp_chat:8888",
        "WS_CHAT_ORIGINS": "http://lab.example:8765",
        "WS_CHAT_MAX_CONNECTIONS": "5",
        "WS_CHAT_ALLOW_NO_ORIGIN": "false",
    }
    s = settings_from(build_parser(env).parse_args(["--max-message-bytes", "100"]))
    assert (s.port, s.chat_host, s.chat_port) == (9000, "tcp_chat", 8888)
    assert s.origins == {"http://lab.example:8765"}
    assert s.max_connections == 5 and s.max_message_bytes == 100
    assert s.allow_no_origin is False
    s = settings_from(build_parser(env).parse_args(["--port", "1"]))
    assert s.port == 1  # the flag wins over the variable


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("WS_CHAT_PORT", "70000"),
        ("WS_CHAT_MAX_CONNECTIONS", "0"),
        ("WS_CHAT_ORIGINS", "localhost:8765"),
        ("WS_CHAT_CHAT_ADDR", "tcp_chat"),
        ("WS_CHAT_ALLOW_NO_ORIGIN", "maybe"),
    ],
)
def test_bad_env_values_are_rejected(var: str, value: str) -> None:
    with pytest.raises(SystemExit):
        build_parser({var: value}).parse_args([])


def test_chat_addr_forms() -> None:
    assert parse_chat_addr("localhost:8888") == ("localhost", 8888)
    assert parse_chat_addr("[::1]:8888") == ("::1", 8888)
