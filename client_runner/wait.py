"""Bounded waiting: a probe retried with backoff until a deadline, and calls that cannot hang.

A probe or a check is code from another module that talks to the network; if it blocks past its
own timeout, the runner must still finish. So each call runs in a daemon thread that is abandoned
(and reported) when it overstays its bound.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .checks.base import CheckFailed, ProbeFn, Target

FIRST_DELAY = 0.1
MAX_DELAY = 1.0


class Overran(TimeoutError):
    """A call did not return within its bound; its thread is left behind."""


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None


def bounded_call(fn: Callable[[], Any], limit: float) -> Outcome:
    """Run ``fn()`` in a daemon thread and wait at most ``limit`` seconds for it."""
    outcome = Outcome()

    def work() -> None:
        try:
            outcome.value = fn()
        except BaseException as exc:  # handed to the caller, who reports it
            outcome.error = exc

    thread = threading.Thread(target=work, name="client_runner-call", daemon=True)
    thread.start()
    thread.join(max(limit, 0.0))
    if thread.is_alive():
        return Outcome(error=Overran(f"did not return within {limit:g} s"))
    return outcome


def describe(exc: BaseException) -> str:
    """``ConnectionRefusedError: [Errno 111] Connection refused``, or the CheckFailed message."""
    text = str(exc) or exc.__class__.__name__
    if isinstance(exc, CheckFailed | Overran):
        return text
    return f"{type(exc).__name__}: {text}"


def wait_ready(
    service: str,
    probe: ProbeFn,
    target: Target,
    *,
    wait: float,
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """Retry ``probe`` until it returns (-> None) or ``wait`` seconds pass (-> the message).

    At least one attempt is made. No attempt may run past the deadline by more than a small
    grace, and the pause between attempts doubles from 0.1 s up to 1 s.
    """
    deadline = clock() + wait
    delay = FIRST_DELAY
    last = "no attempt made"
    while True:
        remaining = deadline - clock()
        op_timeout = max(min(timeout, remaining), 0.05)
        outcome = bounded_call(lambda t=op_timeout: probe(target, t), op_timeout + 0.25)
        if outcome.error is None:
            return None
        last = describe(outcome.error)
        remaining = deadline - clock()
        if remaining <= 0:
            break
        sleep(min(delay, remaining))
        delay = min(delay * 2, MAX_DELAY)
    return f"{service} unreachable after {wait:g} s at {target}: {last}"
