"""report.json and junit.xml: contents, counts, and text no XML parser chokes on."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from client_runner.checks.base import CheckFailed, Registry, Target
from client_runner.report import to_dict, write
from client_runner.runner import Settings, run

from .conftest import make_registry


def mixed_run() -> object:
    reg = make_registry()
    return run(Settings(["good", "mixed"], {"good": Target("h", 1111), "mixed": Target("h", 2222)}),
               reg)


def test_report_json_schema(tmp_path: Path) -> None:
    write(mixed_run(), tmp_path / "new" / "dir")  # type: ignore[arg-type]
    data = json.loads((tmp_path / "new" / "dir" / "report.json").read_text())
    assert data["started"].endswith("Z") and data["finished"] >= data["started"]
    assert data["targets"] == {"good": "h:1111", "mixed": "h:2222"}
    assert data["totals"] == {"passed": 3, "failed": 2, "total": 5, "ok": False}
    assert data["services"]["mixed"]["failed"] == 2
    wrong = data["checks"][3]
    assert {k: wrong[k] for k in ("service", "name", "passed", "error", "expected", "got")} == {
        "service": "mixed", "name": "wrong_reply", "passed": False, "error": "reply differs",
        "expected": "PONG", "got": "PANG\x1b[31m",
    }
    assert set(wrong) >= {"ms", "detail"}
    assert data["checks"][0]["detail"] == "rtt 0.1 ms at h:1111"


def test_junit_parses_with_counts_per_suite(tmp_path: Path) -> None:
    write(mixed_run(), tmp_path)  # type: ignore[arg-type]
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "1", "1")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"good", "mixed"}
    assert (suites["good"].get("tests"), suites["good"].get("failures")) == ("2", "0")
    mixed = suites["mixed"]
    assert (mixed.get("tests"), mixed.get("failures"), mixed.get("errors")) == ("3", "1", "1")
    cases = {c.get("name"): c for c in mixed.findall("testcase")}
    failure = cases["wrong_reply"].find("failure")
    assert failure is not None and failure.get("message") == "reply differs"
    assert "expected: 'PONG'" in (failure.text or "")
    error = cases["refused"].find("error")
    assert error is not None and "Connection refused" in (error.get("message") or "")
    assert cases["fine"].find("failure") is None and cases["fine"].find("error") is None


def test_junit_survives_control_characters_and_odd_values(tmp_path: Path) -> None:
    reg = Registry()

    @reg.check("svc", "garbage")
    def garbage(ctx: object) -> None:
        raise CheckFailed("bad \x00\x07 bytes \udcff", expected=b"\x00", got={1, 2})

    report = run(Settings(["svc"], {"svc": Target("h", 1)}), reg)
    write(report, tmp_path)
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert root.get("failures") == "1"
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["checks"][0]["expected"] == "b'\\x00'"  # not JSON: stored as repr
    assert data["checks"][0]["got"] == "{1, 2}"
    assert to_dict(report)["totals"] == {"passed": 0, "failed": 1, "total": 1, "ok": False}
