"""What a check is, and how a check module declares its checks.

A check module (``client_runner/checks/<service>.py``) registers a readiness probe and a list of
named checks with the decorators below. The runner waits for each service with its probe, runs
its checks in file order, times them and reports. A check passes by returning (optionally a short
detail such as ``"rtt 0.41 ms"``) and fails by raising ``CheckFailed`` with what was expected and
what came, or any ``OSError`` (refused, reset, timed out), which the runner reports as is.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field


class CheckFailed(AssertionError):
    """A check saw the wrong thing; ``expected`` and ``got`` go into the report."""

    def __init__(self, message: str, *, expected: object = None, got: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.got = got


@dataclass(frozen=True)
class Target:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass
class Context:
    """What every check gets: where each service is, and how long one operation may take."""

    targets: dict[str, Target]
    timeout: float = 5.0
    settings: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    def target(self, service: str) -> Target:
        return self.targets[service]

    def setting(self, name: str, default: str = "") -> str:
        """A runner setting from the environment (e.g. ``TLS_CA_FILE``), with a default."""
        return self.settings.get(name, default)


CheckFn = Callable[[Context], "str | None"]
ProbeFn = Callable[[Target, float], None]


@dataclass(frozen=True)
class Check:
    service: str
    name: str
    fn: CheckFn


CHECKS: list[Check] = []
PROBES: dict[str, ProbeFn] = {}
DEFAULT_PORTS: dict[str, int] = {}


def check(service: str, name: str) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn`` as check ``name`` of ``service``; checks run in the order registered."""

    def register(fn: CheckFn) -> CheckFn:
        CHECKS.append(Check(service, name, fn))
        return fn

    return register


def probe(service: str, default_port: int) -> Callable[[ProbeFn], ProbeFn]:
    """Register the readiness probe of ``service``: it returns when the service answers and
    raises (``OSError`` or ``CheckFailed``) when it does not yet; the runner retries it."""

    def register(fn: ProbeFn) -> ProbeFn:
        PROBES[service] = fn
        DEFAULT_PORTS[service] = default_port
        return fn

    return register


def expect(condition: object, message: str, *, expected: object = None, got: object = None) -> None:
    if not condition:
        raise CheckFailed(message, expected=expected, got=got)


def expect_equal(got: object, expected: object, what: str) -> None:
    if got != expected:
        raise CheckFailed(f"{what} differs", expected=expected, got=got)
