"""Pure tests of the command line (flags mirrored by env vars) and of the healthcheck logic."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tcp_chat import cli, healthcheck


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in [v for v in os.environ if v.startswith("TCP_CHAT_")]:
        monkeypatch.delenv(var)
    args = cli.build_parser().parse_args([])
    assert (args.host, args.port, args.model) == ("127.0.0.1", 8888, "asyncio")
    assert (args.max_clients, args.max_line_bytes, args.idle_timeout, args.queue_lines) == (
        1000, 4096, 600.0, 256)
    assert args.heartbeat_file == "/tmp/tcp_chat.alive"


def test_env_vars_mirror_flags_and_flags_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TCP_CHAT_PORT", "0")
    monkeypatch.setenv("TCP_CHAT_MAX_CLIENTS", "7")
    monkeypatch.setenv("TCP_CHAT_IDLE_TIMEOUT", "2.5")
    monkeypatch.setenv("TCP_CHAT_HOST", "0.0.0.0")
    monkeypatch.setenv("TCP_CHAT_HEARTBEAT_FILE", "")
    args = cli.build_parser().parse_args(["--max-clients", "9"])
    assert (args.port, args.max_clients, args.idle_timeout, args.host) == (0, 9, 2.5, "0.0.0.0")
    assert args.heartbeat_file == ""


@pytest.mark.parametrize(
    ("var", "value"),
    [("TCP_CHAT_PORT", "70000"), ("TCP_CHAT_MAX_CLIENTS", "0"), ("TCP_CHAT_QUEUE_LINES", "x")],
)
def test_bad_env_values_are_rejected(monkeypatch: pytest.MonkeyPatch, var: str, value: str) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args([])


def test_bad_model_from_env_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TCP_CHAT_MODEL", "forks")
    with pytest.raises(SystemExit):
        cli.main([])


TABLE = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid
   0: 00000000:22B8 00000000:0000 0A 00000000:00000000 00:00000000 00000000 10001
   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000 10001
"""
TABLE6 = """  sl  local_address                         remote_address  st
   0: 00000000000000000000000000000000:270F 00000000000000000000000000000000:0000 0A
"""


def test_listening_ports_reads_listen_rows_only(tmp_path: Path) -> None:
    (tmp_path / "tcp").write_text(TABLE)
    (tmp_path / "tcp6").write_text(TABLE6)
    tables = (str(tmp_path / "tcp"), str(tmp_path / "tcp6"), str(tmp_path / "missing"))
    assert healthcheck.listening_ports(tables) == {8888, 9999}


def test_check_wants_fresh_file_and_listening_port(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(healthcheck, "listening_ports", lambda: {8888})
    beat = tmp_path / "alive"
    assert "no usable heartbeat" in str(healthcheck.check(str(beat), 5))
    beat.write_text("123 8888\n")
    assert healthcheck.check(str(beat), 5) is None
    assert "old" in str(healthcheck.check(str(beat), 5, now=time.time() + 60))
    beat.write_text("123 9999\n")
    assert healthcheck.check(str(beat), 5) == "nothing listening on port 9999"
    beat.write_text("garbage")
    assert "no usable heartbeat" in str(healthcheck.check(str(beat), 5))
