"""The runner with fake checks: counting, failures with expected/got, unreachable, bounds."""

from __future__ import annotations

import threading

import pytest

from client_runner.checks.base import Context, Registry, Target
from client_runner.runner import Result, Settings, plan, run

from .conftest import make_registry


def settings(services: list[str], **kw: object) -> Settings:
    targets = {"good": Target("h", 1111), "mixed": Target("h", 2222)}
    return Settings(services, kw.pop("targets", targets), **kw)  # type: ignore[arg-type]


def test_counts_and_order(registry: Registry) -> None:
    seen: list[Result] = []
    report = run(settings(["good", "mixed"]), registry, on_result=seen.append)
    assert [(r.service, r.name, r.passed) for r in report.results] == [
        ("good", "answers", True),
        ("good", "quiet", True),
        ("mixed", "fine", True),
        ("mixed", "wrong_reply", False),
        ("mixed", "refused", False),
    ]
    assert seen == report.results  # streamed as they ran
    assert (report.passed, report.failed, report.ok) == (3, 2, False)
    assert report.results[0].detail == "rtt 0.1 ms at h:1111"


def test_failure_kinds_and_expected_got(registry: Registry) -> None:
    report = run(settings(["mixed"]), registry)
    wrong, refused = report.results[1], report.results[2]
    assert (wrong.kind, wrong.error, wrong.expected, wrong.got) == (
        "failure", "reply differs", "PONG", "PANG\x1b[31m")
    assert refused.kind == "error"
    assert refused.error == "ConnectionRefusedError: [Errno 111] Connection refused"
    assert refused.trace == ""  # network errors are results, not bugs: no traceback


def test_all_pass_is_ok(registry: Registry) -> None:
    report = run(settings(["good"]), registry)
    assert report.ok and report.failed == 0


def test_nothing_selected_is_not_ok(registry: Registry) -> None:
    assert not run(settings([]), registry).ok


def test_a_bug_in_a_check_keeps_its_traceback() -> None:
    reg = Registry()
    reg.probe("svc", 1)(lambda t, timeout: None)

    @reg.check("svc", "buggy")
    def buggy(ctx: Context) -> None:
        {}["missing"]

    (result,) = run(Settings(["svc"], {"svc": Target("h", 1)}), reg).results
    assert result.error == "KeyError: 'missing'"
    assert 'in buggy' in result.trace


@pytest.mark.timeout(20)
def test_unreachable_service_fails_every_check_within_the_wait(registry: Registry) -> None:
    def down(target: Target, timeout: float) -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    registry.probes["mixed"] = down
    report = run(settings(["mixed", "good"], wait=0.5), registry)
    mixed = [r for r in report.results if r.service == "mixed"]
    assert [r.name for r in mixed] == ["fine", "wrong_reply", "refused"]
    for r in mixed:
        assert not r.passed
        assert r.error.startswith("mixed unreachable after 0.5 s at h:2222: ConnectionRefused")
    assert all(r.passed for r in report.results if r.service == "good")  # the run went on
    assert [s.reachable for s in report.services] == [False, True]


@pytest.mark.timeout(20)
def test_a_hanging_check_is_cut_at_the_check_timeout() -> None:
    reg = Registry()
    release = threading.Event()
    reg.check("svc", "hangs")(lambda ctx: release.wait(30))
    reg.check("svc", "after")(lambda ctx: "ran")
    try:
        report = run(Settings(["svc"], {"svc": Target("h", 1)}, check_timeout=0.2), reg)
    finally:
        release.set()
    hangs, after = report.results
    assert not hangs.passed and hangs.error == "check did not return within 0.2 s"
    assert after.passed and after.detail == "ran"


def test_import_error_is_a_failed_check_named_import() -> None:
    reg = make_registry()
    reg.import_errors["broken"] = (
        "checks/broken.py: NameError: name 'sockt' is not defined\nTraceback ...\nNameError: ..."
    )
    report = run(settings(["broken", "good"]), reg)
    first = report.results[0]
    assert (first.service, first.name, first.passed) == ("broken", "import", False)
    assert first.error == "checks/broken.py: NameError: name 'sockt' is not defined"
    assert report.passed == 2 and report.failed == 1


def test_unknown_service_and_missing_address_are_failures(registry: Registry) -> None:
    registry.probes.pop("good")
    registry.default_ports.pop("good")
    report = run(Settings(["nosuch", "good"], {}), registry)
    nosuch, *good = report.results
    assert (nosuch.name, nosuch.passed) == ("registered", False)
    assert "no checks registered for nosuch (known: " in nosuch.error
    assert [r.name for r in good] == ["answers", "quiet"]
    assert all(r.error == "no address for good: pass --target good=HOST:PORT or set GOOD_ADDR"
               for r in good)


def test_probe_only_service_reports_reachable() -> None:
    reg = Registry()
    reg.probe("bare", 7)(lambda t, timeout: None)
    (result,) = run(Settings(["bare"], {"bare": Target("h", 7)}), reg).results
    assert (result.name, result.passed, result.detail) == ("reachable", True, "answers at h:7")


def test_checks_see_every_target_and_the_timeout() -> None:
    reg = Registry()
    seen: list[Context] = []
    reg.check("a", "look")(lambda ctx: seen.append(ctx))
    targets = {"a": Target("h", 1), "b": Target("other", 2)}
    run(Settings(["a"], targets, timeout=1.5, env={"TLS_CA_FILE": "/ca"}), reg)
    (ctx,) = seen
    assert ctx.target("b") == Target("other", 2)
    assert ctx.timeout == 1.5 and ctx.setting("TLS_CA_FILE") == "/ca"


def test_plan_lists_rows_in_run_order() -> None:
    reg = make_registry()
    reg.import_errors["broken"] = "x"
    assert plan(settings(["broken", "good", "nosuch"]), reg) == [
        ("broken", "import"), ("good", "answers"), ("good", "quiet"), ("nosuch", "registered"),
    ]
