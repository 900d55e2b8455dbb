"""Flags and their environment variables become Settings with the same checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from http_custom.cli import build_parser, settings_from


def parse(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *argv: str):  # type: ignore[no-untyped-def]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return settings_from(build_parser().parse_args(list(argv)))


def test_defaults_are_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HOST", "PORT", "MAX_BODY", "MAX_CONNECTIONS"):
        monkeypatch.delenv(f"HTTP_CUSTOM_{var}", raising=False)
    settings = parse(monkeypatch, {})
    assert settings.host == "127.0.0.1"
    assert settings.port == 8080
    assert settings.limits.max_body == 65536
    assert settings.limits.max_url == 8192
    assert settings.max_connections == 128


def test_env_mirrors_flags_and_flags_win(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"HTTP_CUSTOM_PORT": "0", "HTTP_CUSTOM_MAX_BODY": "10", "HTTP_CUSTOM_TIMEOUT": "1.5",
           "HTTP_CUSTOM_STATIC_DIR": "/srv/x", "HTTP_CUSTOM_MAX_URL": "100"}
    settings = parse(monkeypatch, env, "--max-url", "200")
    assert settings.port == 0
    assert settings.limits.max_body == 10
    assert settings.timeout == 1.5
    assert settings.static_dir == Path("/srv/x")
    assert settings.limits.max_url == 200


@pytest.mark.parametrize(("var", "value"), [("HTTP_CUSTOM_PORT", "70000"),
                                            ("HTTP_CUSTOM_MAX_BODY", "0"),
                                            ("HTTP_CUSTOM_TIMEOUT", "soon")])
def test_bad_env_values_are_refused(monkeypatch: pytest.MonkeyPatch, var: str, value: str) -> None:
    with pytest.raises(SystemExit):
        parse(monkeypatch, {var: value})
