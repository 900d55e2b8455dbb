"""Run the checks of the selected services: wait for each, run its checks in order, time them.

No printing and no files here: results go to an ``on_result`` callback as they come and into a
``RunReport`` at the end, so the logic is tested with fake checks and no network.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .checks.base import Check, CheckFailed, Context, Registry, Target
from .targets import env_name
from .wait import Overran, bounded_call, describe, wait_ready


@dataclass
class Settings:
    services: list[str]
    targets: dict[str, Target]
    timeout: float = 5.0  # one network operation inside a check
    wait: float = 20.0  # how long a service may take to answer its probe
    check_timeout: float = 60.0  # a whole check, so a broken one cannot hang the run
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Result:
    service: str
    name: str
    passed: bool
    ms: float
    detail: str = ""
    error: str = ""
    expected: object = None
    got: object = None
    kind: str = ""  # "" when passed; "failure" (wrong answer, unreachable) or "error" (exception)
    trace: str = ""  # traceback of an unexpected exception (a bug in the check, most likely)


@dataclass
class ServiceRun:
    service: str
    target: Target | None
    ms: float = 0.0
    reachable: bool | None = None  # None: not probed (no probe, no target, import failed)


@dataclass
class RunReport:
    started: datetime
    finished: datetime
    settings: Settings
    services: list[ServiceRun]
    results: list[Result]
    interrupted: bool = False  # Ctrl-C or SIGTERM stopped the run early

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed

    @property
    def ok(self) -> bool:
        return bool(self.results) and self.failed == 0 and not self.interrupted


def plan(settings: Settings, registry: Registry) -> list[tuple[str, str]]:
    """The (service, check name) pairs a run will report, in order (for column widths)."""
    rows: list[tuple[str, str]] = []
    for service in settings.services:
        if service in registry.import_errors:
            rows.append((service, "import"))
        rows += [(service, n) for n in _names(service, registry)]
    return rows


def _names(service: str, registry: Registry) -> list[str]:
    """Check names of a service; a service with none still gets one row, so it shows."""
    names = [c.name for c in registry.checks_of(service)]
    if names:
        return names
    if service in registry.import_errors:
        return []
    return ["reachable"] if service in registry.probes else ["registered"]


def run(
    settings: Settings,
    registry: Registry,
    on_result: Callable[[Result], None] = lambda r: None,
    on_note: Callable[[str], None] = lambda s: None,
) -> RunReport:
    """Run every selected service's checks; never raises for a check's sake, never hangs."""
    started = datetime.now(UTC)
    context = Context(targets=dict(settings.targets), timeout=settings.timeout,
                      settings=dict(settings.env))
    results: list[Result] = []
    services: list[ServiceRun] = []

    def emit(result: Result) -> None:
        results.append(result)
        on_result(result)

    interrupted = False
    for service in settings.services:
        t0 = time.perf_counter()
        srun = ServiceRun(service, settings.targets.get(service))
        services.append(srun)
        try:
            _run_service(service, settings, registry, context, srun, emit, on_note)
        except KeyboardInterrupt:  # report what ran so far instead of a traceback
            interrupted = True
        srun.ms = (time.perf_counter() - t0) * 1000
        if interrupted:
            break
    return RunReport(started, datetime.now(UTC), settings, services, results, interrupted)


def _run_service(
    service: str,
    settings: Settings,
    registry: Registry,
    context: Context,
    srun: ServiceRun,
    emit: Callable[[Result], None],
    on_note: Callable[[str], None],
) -> None:
    checks = registry.checks_of(service)
    if service in registry.import_errors:
        error = registry.import_errors[service]  # first line: the summary; then a traceback
        first = error.splitlines()[0] if error else "import failed"
        emit(Result(service, "import", False, 0.0, error=first, kind="error", trace=error))
        if not checks:
            return
    names = _names(service, registry)

    def fail_all(message: str) -> None:
        for name in names:
            emit(Result(service, name, False, 0.0, error=message, kind="failure"))

    if not checks and service not in registry.probes:
        known = ", ".join(registry.services()) or "none"
        fail_all(f"no checks registered for {service} (known: {known})")
        return
    target = srun.target
    if target is None:
        fail_all(f"no address for {service}: pass --target {service}=HOST:PORT "
                 f"or set {env_name(service)}")
        return
    probe = registry.probes.get(service)
    if probe is not None:
        on_note(f"waiting for {service} at {target} (up to {settings.wait:g} s)")
        message = wait_ready(service, probe, target, wait=settings.wait, timeout=settings.timeout)
        srun.reachable = message is None
        if message is not None:
            fail_all(message)
            return
    if not checks:
        emit(Result(service, "reachable", True, 0.0, detail=f"answers at {target}"))
        return
    for chk in checks:
        emit(run_check(chk, context, settings.check_timeout))


def run_check(chk: Check, context: Context, limit: float) -> Result:
    """One check, timed: returned -> passed; CheckFailed/OSError/anything else -> failed."""
    t0 = time.perf_counter()
    outcome = bounded_call(lambda: chk.fn(context), limit)
    ms = (time.perf_counter() - t0) * 1000
    exc = outcome.error
    if exc is None:
        detail = "" if outcome.value is None else str(outcome.value)
        return Result(chk.service, chk.name, True, ms, detail=detail)
    if isinstance(exc, CheckFailed):
        return Result(chk.service, chk.name, False, ms, error=exc.message,
                      expected=exc.expected, got=exc.got, kind="failure")
    if isinstance(exc, Overran):
        return Result(chk.service, chk.name, False, ms, error=f"check {describe(exc)}",
                      kind="error")
    trace = ""
    if not isinstance(exc, OSError):  # refused/reset/timeout are results; others are bugs
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).strip()
    return Result(chk.service, chk.name, False, ms, error=describe(exc), kind="error",
                  trace=trace)
