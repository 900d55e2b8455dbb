"""Flags and their environment variables."""

from __future__ import annotations

import pytest

from tls_server.cli import Config, parse_args


def test_defaults_are_safe() -> None:
    config = parse_args([], env={})
    assert config == Config()
    assert config.host == "127.0.0.1" and (config.port, config.mtls_port) == (8443, 8444)
    assert config.share_dir == ""


def test_env_mirrors_every_flag_and_flags_win() -> None:
    env = {"TLS_SERVER_PORT": "9443", "TLS_SERVER_MAX_LINE": "64",
           "TLS_SERVER_HANDSHAKE_TIMEOUT": "2.5", "TLS_SERVER_SHARE_DIR": "/share"}
    config = parse_args([], env=env)
    assert (config.port, config.max_line, config.handshake_timeout) == (9443, 64, 2.5)
    assert config.share_dir == "/share"
    assert parse_args(["--port", "7443"], env=env).port == 7443


@pytest.mark.parametrize("args", [["--max-line", "0"], ["--port", "70000"],
                                  ["--idle-timeout", "-1"], ["--port", "1", "--mtls-port", "1"]])
def test_bad_values_are_refused(args: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(args, env={})


def test_bad_env_value_names_the_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args([], env={"TLS_SERVER_MAX_CONNECTIONS": "many"})
    assert "TLS_SERVER_MAX_CONNECTIONS" in capsys.readouterr().err
