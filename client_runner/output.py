"""What a person reads: a line per check as it runs, a summary table, the failures, a total.

The last line is exactly ``N passed, M failed``; CI tools and the compose integration test read it.
Marks are ✓/✗ when the stream can encode them (PASS/FAIL otherwise); colour only on a terminal
without NO_COLOR.
"""

from __future__ import annotations

import os
from typing import TextIO

from .runner import Result, RunReport
from .term import clean

SHOWN = 400  # characters of an expected/got value in the console (report.json has them all)


def short(value: object, limit: int = SHOWN) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class Console:
    def __init__(self, out: TextIO, rows: list[tuple[str, str]], color: bool | None = None):
        self.out = out
        self.svc_w = max([len(s) for s, _ in rows] + [7])
        self.name_w = max([len(n) for _, n in rows] + [4])
        encoding = getattr(out, "encoding", None) or "utf-8"
        try:
            "✓✗·".encode(encoding)
            self.ok_mark, self.bad_mark, self.dot = "✓", "✗", "·"
        except (UnicodeEncodeError, LookupError):
            self.ok_mark, self.bad_mark, self.dot = "PASS", "FAIL", "-"
        if color is None:
            color = bool(getattr(out, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ
        self.color = color

    def _paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def _print(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def header(self, services: list[str], checks: int, timeout: float, wait: float) -> None:
        self._print(f"client_runner: {plural(checks, 'check')} of "
                    f"{plural(len(services), 'service')} "
                    f"({', '.join(services) or 'none'}); timeout {timeout:g} s, wait {wait:g} s")

    def note(self, text: str) -> None:
        self._print(self._paint(f"{self.dot} {clean(text)}", "2"))

    def result(self, r: Result) -> None:
        mark = self._paint(self.ok_mark, "32") if r.passed else self._paint(self.bad_mark, "31")
        what = r.detail if r.passed else r.error.splitlines()[0] if r.error else ""
        line = f"{mark} {r.service:<{self.svc_w}}  {r.name:<{self.name_w}}  {r.ms:8.1f} ms"
        self._print(f"{line}  {clean(what)}".rstrip())

    def summary(self, report: RunReport) -> None:
        self._print()
        head = f"{'service':<{self.svc_w}}  {'passed':>6}  {'failed':>6}  {'total':>5}  {'time':>8}"
        self._print(head)
        self._print("-" * len(head))
        for srun in report.services:
            mine = [r for r in report.results if r.service == srun.service]
            passed = sum(r.passed for r in mine)
            self._print(f"{srun.service:<{self.svc_w}}  {passed:>6}  {len(mine) - passed:>6}  "
                        f"{len(mine):>5}  {srun.ms / 1000:>6.2f} s")
        total_s = (report.finished - report.started).total_seconds()
        self._print(f"{'all':<{self.svc_w}}  {report.passed:>6}  {report.failed:>6}  "
                    f"{len(report.results):>5}  {total_s:>6.2f} s")
        failures = [r for r in report.results if not r.passed]
        if failures:
            self._print()
            self._print(self._paint("Failures", "1"))
            for group in _grouped(failures):
                self.failure(group[0], [r.name for r in group] if len(group) > 1 else None)
        self._print()
        if not report.results:
            self._print("no checks ran")
        self._print(f"{report.passed} passed, {report.failed} failed")

    def failure(self, r: Result, names: list[str] | None = None) -> None:
        """One failure; ``names`` when several checks of a service failed the same way."""
        lines = r.error.splitlines() or ["(no message)"]
        what = r.name if names is None else f"({len(names)} checks: {', '.join(names)})"
        self._print(f"{self._paint(self.bad_mark, '31')} {r.service} {what}: {clean(lines[0])}")
        for extra in lines[1:]:
            self._print(f"    {clean(extra)}")
        if r.expected is not None or r.got is not None:
            self._print(f"    expected: {clean(short(r.expected))}")
            self._print(f"    got:      {clean(short(r.got))}")
        if r.trace and r.trace != r.error:
            for line in r.trace.splitlines()[-8:]:
                self._print(f"    | {clean(line)}")


def _grouped(failures: list[Result]) -> list[list[Result]]:
    """Runs of same-service failures with the same error (an unreachable service) as one."""

    def key(r: Result) -> tuple[str, str, str] | None:
        plain = r.expected is None and r.got is None  # expected/got are always shown apart
        return (r.service, r.error, r.trace) if plain else None

    groups: list[list[Result]] = []
    for r in failures:
        if groups and key(r) is not None and key(r) == key(groups[-1][0]):
            groups[-1].append(r)
        else:
            groups.append([r])
    return groups
