"""Probe retries: bounded by the wait, backoff capped, one attempt at least, hangs cut short."""

from __future__ import annotations

import threading

import pytest

from client_runner.checks.base import CheckFailed, Target
from client_runner.wait import MAX_DELAY, bounded_call, wait_ready

TARGET = Target("svc", 9)


class FakeTime:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_ready_after_some_failures_returns_none() -> None:
    fake = FakeTime()
    calls: list[float] = []

    def probe(target: Target, timeout: float) -> None:
        calls.append(timeout)
        if len(calls) < 4:
            raise ConnectionRefusedError(111, "Connection refused")

    assert wait_ready("svc", probe, TARGET, wait=20, timeout=5,
                      clock=fake.clock, sleep=fake.sleep) is None
    assert len(calls) == 4
    assert fake.sleeps == [0.1, 0.2, 0.4]


def test_unreachable_message_names_service_wait_target_and_last_error() -> None:
    fake = FakeTime()
    attempts = []

    def probe(target: Target, timeout: float) -> None:
        attempts.append(timeout)
        raise CheckFailed(f"no banner #{len(attempts)}")

    message = wait_ready("udp_service", probe, Target("udp_service", 9999), wait=20, timeout=5,
                         clock=fake.clock, sleep=fake.sleep)
    assert message == (f"udp_service unreachable after 20 s at udp_service:9999: "
                       f"no banner #{len(attempts)}")
    assert sum(fake.sleeps) == pytest.approx(20)  # slept up to the deadline, never past it
    assert max(fake.sleeps) <= MAX_DELAY
    assert all(t <= 5 for t in attempts)


def test_probe_timeout_never_exceeds_what_is_left() -> None:
    fake = FakeTime()
    seen = []

    def probe(target: Target, timeout: float) -> None:
        seen.append((fake.now, timeout))
        raise OSError("down")

    wait_ready("svc", probe, TARGET, wait=2.5, timeout=5, clock=fake.clock, sleep=fake.sleep)
    deadline = 102.5
    assert all(now + t <= deadline + 0.05 for now, t in seen)


def test_zero_wait_still_tries_once() -> None:
    fake = FakeTime()
    calls = []

    def probe(target: Target, timeout: float) -> None:
        calls.append(1)

    assert wait_ready("svc", probe, TARGET, wait=0, timeout=5,
                      clock=fake.clock, sleep=fake.sleep) is None
    assert calls == [1]


@pytest.mark.timeout(10)
def test_real_wait_with_a_probe_that_always_raises_gives_up() -> None:
    def probe(target: Target, timeout: float) -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    message = wait_ready("tcp_chat", probe, Target("127.0.0.1", 1), wait=0.5, timeout=5)
    assert message is not None
    assert message.startswith("tcp_chat unreachable after 0.5 s at 127.0.0.1:1: ")
    assert message.endswith("ConnectionRefusedError: [Errno 111] Connection refused")


@pytest.mark.timeout(10)
def test_a_hanging_probe_is_abandoned() -> None:
    release = threading.Event()

    def probe(target: Target, timeout: float) -> None:
        release.wait(30)  # ignores its timeout, as a buggy probe would

    try:
        message = wait_ready("svc", probe, TARGET, wait=0.3, timeout=0.1)
    finally:
        release.set()
    assert message is not None and "did not return within" in message


def test_bounded_call_returns_value_or_error() -> None:
    assert bounded_call(lambda: 42, 5).value == 42
    outcome = bounded_call(lambda: 1 / 0, 5)
    assert isinstance(outcome.error, ZeroDivisionError)
