"""The run, as files: ``report.json`` (everything) and ``junit.xml`` (for CI dashboards).

JUnit: one ``<testsuite>`` per service inside ``<testsuites>``; a ``CheckFailed`` or an unreachable
service is a ``<failure>``, any other exception an ``<error>``. Text is stripped of characters XML
1.0 cannot hold, since a check's ``got`` may be whatever bytes a broken server sent.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

from .runner import Result, RunReport

SCHEMA = "netlab.client_runner/1"
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def jsonable(value: object) -> object:
    """The value itself when JSON can hold it, else its repr (bytes, sets, objects)."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def to_dict(report: RunReport) -> dict[str, object]:
    services = {}
    for srun in report.services:
        mine = [r for r in report.results if r.service == srun.service]
        passed = sum(r.passed for r in mine)
        services[srun.service] = {
            "target": str(srun.target) if srun.target else None,
            "reachable": srun.reachable,
            "passed": passed,
            "failed": len(mine) - passed,
            "total": len(mine),
            "ms": round(srun.ms, 3),
        }
    return {
        "schema": SCHEMA,
        "started": iso(report.started),
        "finished": iso(report.finished),
        "duration_ms": round((report.finished - report.started).total_seconds() * 1000, 3),
        "settings": {
            "timeout": report.settings.timeout,
            "wait": report.settings.wait,
            "check_timeout": report.settings.check_timeout,
        },
        "targets": {name: str(t) for name, t in report.settings.targets.items()},
        "services": services,
        "checks": [
            {
                "service": r.service,
                "name": r.name,
                "passed": r.passed,
                "ms": round(r.ms, 3),
                "detail": r.detail,
                "error": r.error,
                "kind": r.kind,
                "expected": jsonable(r.expected),
                "got": jsonable(r.got),
                "trace": r.trace,
            }
            for r in report.results
        ],
        "totals": {
            "passed": report.passed,
            "failed": report.failed,
            "total": len(report.results),
            "ok": report.ok,
        },
    }


def xml_text(text: str) -> str:
    return NOT_XML.sub("\ufffd", text)


def _failure_body(r: Result) -> str:
    parts = [r.error]
    if r.expected is not None or r.got is not None:
        parts += [f"expected: {r.expected!r}", f"got:      {r.got!r}"]
    if r.trace and r.trace != r.error:
        parts.append(r.trace)
    return xml_text("\n".join(parts))


def to_junit(report: RunReport) -> ET.Element:
    root = ET.Element("testsuites", name="netlab client_runner")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for srun in report.services:
        mine = [r for r in report.results if r.service == srun.service]
        failures = sum(r.kind == "failure" for r in mine)
        errors = sum(not r.passed and r.kind != "failure" for r in mine)
        suite = ET.SubElement(
            root, "testsuite", name=srun.service, tests=str(len(mine)), failures=str(failures),
            errors=str(errors), skipped="0", time=f"{srun.ms / 1000:.3f}",
            timestamp=report.started.strftime("%Y-%m-%dT%H:%M:%S"),
        )
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="target", value=str(srun.target or ""))
        for r in mine:
            case = ET.SubElement(suite, "testcase", classname=f"netlab.{r.service}",
                                 name=xml_text(r.name), time=f"{r.ms / 1000:.3f}")
            if not r.passed:
                tag = "failure" if r.kind == "failure" else "error"
                message = xml_text(r.error.splitlines()[0] if r.error else "failed")
                bad = ET.SubElement(case, tag, message=message, type=r.kind or "failure")
                bad.text = _failure_body(r)
            elif r.detail:
                ET.SubElement(case, "system-out").text = xml_text(r.detail)
        totals["tests"] += len(mine)
        totals["failures"] += failures
        totals["errors"] += errors
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{(report.finished - report.started).total_seconds():.3f}")
    return root


def write(report: RunReport, folder: Path) -> list[Path]:
    """Write both files into ``folder`` (created if missing); raises OSError when it cannot.

    Each file is written to a temporary name first and renamed, so a reader never sees half.
    """
    folder.mkdir(parents=True, exist_ok=True)
    tree = ET.ElementTree(to_junit(report))
    ET.indent(tree)
    paths = [folder / "report.json", folder / "junit.xml"]
    payloads = [
        json.dumps(to_dict(report), indent=2, ensure_ascii=False, default=repr) + "\n",
        ET.tostring(tree.getroot(), encoding="unicode", xml_declaration=True) + "\n",
    ]
    for path, text in zip(paths, payloads, strict=True):
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        # a lone surrogate in a check's "got" becomes a \udcxx escape, still valid JSON
        tmp.write_text(text, encoding="utf-8", errors="backslashreplace")
        os.replace(tmp, path)
    return paths
