"""Fake checks and probes in a registry of their own: the runner is tested with no network."""

from __future__ import annotations

import pytest

from client_runner.checks.base import CheckFailed, Context, Registry, Target


def make_registry() -> Registry:
    """Two services: ``good`` (two passing checks) and ``mixed`` (pass, CheckFailed, OSError)."""
    reg = Registry()

    @reg.probe("good", 1111)
    def good_probe(target: Target, timeout: float) -> None:
        return None

    @reg.check("good", "answers")
    def good_answers(ctx: Context) -> str:
        return f"rtt 0.1 ms at {ctx.target('good')}"

    @reg.check("good", "quiet")
    def good_quiet(ctx: Context) -> None:
        return None

    @reg.probe("mixed", 2222)
    def mixed_probe(target: Target, timeout: float) -> None:
        return None

    @reg.check("mixed", "fine")
    def mixed_fine(ctx: Context) -> None:
        return None

    @reg.check("mixed", "wrong_reply")
    def mixed_wrong(ctx: Context) -> None:
        raise CheckFailed("reply differs", expected="PONG", got="PANG\x1b[31m")

    @reg.check("mixed", "refused")
    def mixed_refused(ctx: Context) -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    return reg


@pytest.fixture
def registry() -> Registry:
    return make_registry()
