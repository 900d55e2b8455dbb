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


@dataclass
class Registry:
    """Checks, probes and default ports of some services.

    The module-level decorators fill the global ``REGISTRY``; a test builds its own ``Registry``
    and hands it to the runner, so fake checks never leak into the real ones.
    """

    checks: list[Check] = field(default_factory=list)
    probes: dict[str, ProbeFn] = field(default_factory=dict)
    default_ports: dict[str, int] = field(default_factory=dict)
    # module (= service) name -> formatted error, for check modules that failed to import
    import_errors: dict[str, str] = field(default_factory=dict)

    def check(self, service: str, name: str) -> Callable[[CheckFn], CheckFn]:
        """Register ``fn`` as check ``name`` of ``service``; checks run in the order registered."""

        def register(fn: CheckFn) -> CheckFn:
            self.checks.append(Check(service, name, fn))
            return fn

        return register

    def probe(self, service: str, default_port: int) -> Callable[[ProbeFn], ProbeFn]:
        """Register the readiness probe of ``service`` and the port it listens on by default."""

        def register(fn: ProbeFn) -> ProbeFn:
            self.probes[service] = fn
            self.default_ports[service] = default_port
            return fn

        return register

    def services(self) -> list[str]:
        """Every service known here, in registration order (probes, checks, failed imports)."""
        names = [*self.probes, *(c.service for c in self.checks), *self.import_errors]
        return list(dict.fromkeys(names))

    def checks_of(self, service: str) -> list[Check]:
        return [c for c in self.checks if c.service == service]


CHECKS: list[Check] = []
PROBES: dict[str, ProbeFn] = {}
DEFAULT_PORTS: dict[str, int] = {}
REGISTRY = Registry(CHECKS, PROBES, DEFAULT_PORTS)


def check(service: str, name: str) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn`` as check ``name`` of ``service``; checks run in the order registered."""
    return REGISTRY.check(service, name)


def probe(service: str, default_port: int) -> Callable[[ProbeFn], ProbeFn]:
    """Register the readiness probe of ``service``: it returns when the service answers and
    raises (``OSError`` or ``CheckFailed``) when it does not yet; the runner retries it."""
    return REGISTRY.probe(service, default_port)


def expect(condition: object, message: str, *, expected: object = None, got: object = None) -> None:
    if not condition:
        raise CheckFailed(message, expected=expected, got=got)


def expect_equal(got: object, expected: object, what: str) -> None:
    if got != expected:
        raise CheckFailed(f"{what} differs", expected=expected, got=got)
