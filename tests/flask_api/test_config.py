"""Settings: defaults, environment, overrides; the CLI has a flag per setting."""

from __future__ import annotations

import pytest

from flask_api import cli, config


def test_environment_then_overrides() -> None:
    env = {"FLASK_API_MAX_BODY": "2048", "FLASK_API_DB": "/x/y.db", "FLASK_API_TOKEN_TTL": ""}
    cfg = config.load({"TOKEN_TTL": 5}, environ=env)
    assert cfg["MAX_CONTENT_LENGTH"] == 2048 and cfg["DATABASE"] == "/x/y.db"
    assert cfg["TOKEN_TTL"] == 5
    assert config.load(environ={})["BCRYPT_ROUNDS"] == 12


@pytest.mark.parametrize(("env", "override"), [
    ({"FLASK_API_MAX_BODY": "lots"}, {}), ({}, {"MAX_CONTENT_LENGTH": 0}),
    ({}, {"BCRYPT_ROUNDS": 3}), ({"FLASK_API_PER_PAGE_MAX": "-1"}, {}),
])
def test_bad_settings_are_refused(env: dict[str, str], override: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        config.load(override, environ=env)


def test_cli_has_a_flag_per_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_API_PORT", "5123")
    args = cli.parse_args(["--max-body", "10", "--db", "/tmp/x.db", "--bcrypt-rounds", "5"])
    assert (args.port, args.host) == (5123, "127.0.0.1")
    assert (args.MAX_CONTENT_LENGTH, args.DATABASE, args.BCRYPT_ROUNDS) == (10, "/tmp/x.db", 5)
    assert args.TOKEN_TTL is None  # unset flags leave the environment and defaults alone
    assert {s.flag for s in config.SETTINGS} >= {"--login-max-failures", "--per-page-max"}
