"""The CLI end to end with fake checks: output a person reads, exit codes, reports, settings."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from client_runner.checks.base import CheckFailed, Registry, Target
from client_runner.cli import run_command, select

from .conftest import make_registry


def cli(*argv: str, registry: Registry | None = None, env: dict[str, str] | None = None
        ) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_command(list(argv), registry=registry or make_registry(), env=env or {},
                       out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_all_pass_exits_zero_with_closing_line() -> None:
    code, out, _ = cli("--only", "good")
    assert code == 0
    lines = out.splitlines()
    assert lines[-1] == "2 passed, 0 failed"
    assert any(line.startswith("✓ good") and "answers" in line and " ms " in line
               and line.endswith("rtt 0.1 ms at localhost:1111") for line in lines)
    assert "Failures" not in out


def test_failures_exit_nonzero_and_show_expected_and_got() -> None:
    code, out, _ = cli()  # default: every service with a probe
    assert code == 1
    assert out.splitlines()[-1] == "3 passed, 2 failed"
    failures = out[out.index("Failures"):]
    assert "✗ mixed wrong_reply: reply differs" in failures
    assert "expected: 'PONG'" in failures
    assert "got:      'PANG\\x1b[31m'" in failures  # repr: the escape is shown, not obeyed
    assert "✗ mixed refused: ConnectionRefusedError: [Errno 111] Connection refused" in failures
    assert "\x1b" not in out


def test_summary_table_has_a_row_per_service() -> None:
    _, out, _ = cli("--no-color")
    rows = {line.split()[0]: line.split()[1:4] for line in out.splitlines()
            if line.split() and line.split()[0] in ("good", "mixed", "all")
            and line.split()[1].isdigit()}
    assert rows == {"good": ["2", "0", "2"], "mixed": ["1", "2", "3"], "all": ["3", "2", "5"]}


def test_run_subcommand_is_the_default() -> None:
    assert cli("run", "--only", "good")[0] == 0


def test_no_checks_at_all_is_a_failure() -> None:
    code, out, _ = cli(registry=Registry())
    assert code == 1
    assert out.splitlines()[-2:] == ["no checks ran", "0 passed, 0 failed"]


def test_selection_from_env_and_flag_wins() -> None:
    env = {"NETLAB_SERVICES": "mixed"}
    assert cli(env=env)[0] == 1
    assert cli("--only", "good", env=env)[0] == 0
    reg = make_registry()
    assert select("", reg) == ["good", "mixed"]
    assert select(" mixed , good,mixed", reg) == ["mixed", "good"]


def test_targets_from_flag_and_env_reach_the_checks() -> None:
    _, out, _ = cli("--only", "good", "--target", "good=example:7")
    assert "rtt 0.1 ms at example:7" in out
    _, out, _ = cli("--only", "good", env={"GOOD_ADDR": "envhost:8"})
    assert "rtt 0.1 ms at envhost:8" in out


def test_bad_settings_are_usage_errors() -> None:
    assert cli("--target", "good=host:http")[0] == 2
    code, _, err = cli(env={"NETLAB_TIMEOUT": "soon"})
    assert code == 2 and "NETLAB_TIMEOUT='soon' is not a number" in err


def test_unreachable_service_named_in_output() -> None:
    reg = make_registry()

    def down(target: Target, timeout: float) -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    reg.probes["good"] = down
    code, out, _ = cli("--only", "good", "--wait", "0.3", registry=reg)
    assert code == 1
    assert "good unreachable after 0.3 s at localhost:1111" in out
    failures = out[out.index("Failures"):]
    assert "✗ good (2 checks: answers, quiet): good unreachable after 0.3 s" in failures
    assert out.splitlines()[-1] == "0 passed, 2 failed"


def test_reports_written_to_report_dir_from_env(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    code, out, err = cli(env={"NETLAB_REPORT_DIR": str(folder)})
    assert code == 1 and err == ""
    assert f"reports: {folder / 'report.json'}" in out
    assert out.splitlines()[-1] == "3 passed, 2 failed"  # still the last line
    data = json.loads((folder / "report.json").read_text())
    assert data["totals"]["failed"] == 2
    assert (folder / "junit.xml").read_text().startswith("<?xml")


@pytest.mark.parametrize("only", ["good", "mixed"])
def test_unwritable_report_dir_is_said_and_exit_follows_checks(tmp_path: Path, only: str) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, out, err = cli("--only", only, "--report-dir", str(blocker / "sub"))
    assert code == (0 if only == "good" else 1)
    assert f"cannot write reports to {blocker / 'sub'}" in err
    want = "2 passed, 0 failed" if only == "good" else "1 passed, 2 failed"
    assert out.splitlines()[-1] == want


def test_list_shows_services_checks_and_env_names() -> None:
    reg = make_registry()
    reg.import_errors["broken"] = "checks/broken.py: SyntaxError: invalid syntax\nTraceback"
    code, out, _ = cli("list", registry=reg)
    assert code == 0
    assert "good  (localhost:1111; GOOD_ADDR)" in out
    assert "  wrong_reply" in out
    assert "import failed: checks/broken.py: SyntaxError: invalid syntax" in out


def test_control_characters_in_messages_never_reach_the_terminal() -> None:
    reg = Registry()

    @reg.check("svc", "noisy")
    def noisy(ctx: object) -> str:
        raise CheckFailed("server said \x1b[2J\x07 and more")

    code, out, _ = cli("--only", "svc", registry=reg, env={"SVC_ADDR": "h:1"})
    assert code == 1
    assert "\x1b" not in out and "\x07" not in out
    assert "server said ?[2J? and more" in out
