"""Check modules are found by themselves, and a broken one is reported, not fatal."""

from __future__ import annotations

import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from client_runner.checks import discover, service_of
from client_runner.checks.base import Registry, Target
from client_runner.runner import Settings, run


@pytest.fixture
def fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"fakechecks_{uuid.uuid4().hex[:8]}"
    pkg = tmp_path / name
    pkg.mkdir()
    files = {
        "__init__.py": "from client_runner.checks.base import Registry\nREG = Registry()\n",
        "base.py": "raise RuntimeError('base is not a check module')\n",
        "_helpers.py": "raise RuntimeError('private modules are skipped')\n",
        "alpha.py": """
            from . import REG
            REG.probe("alpha", 1000)(lambda target, timeout: None)
            REG.check("alpha", "works")(lambda ctx: "fine")
        """,
        "alpha_extra.py": """
            from . import REG
            REG.check("alpha", "extra")(lambda ctx: None)
            undefined_name + 1
        """,
        "zeta.py": "def broken(:\n",
    }
    for file, text in files.items():
        (pkg / file).write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[mod]


def test_discover_imports_modules_and_records_broken_ones(fake_package: str) -> None:
    pkg = __import__(fake_package)
    reg: Registry = pkg.REG
    loaded = discover(fake_package, pkg.__path__, registry=reg)
    assert loaded == ["alpha"]
    assert set(reg.import_errors) == {"alpha", "zeta"}  # alpha_extra belongs to alpha
    assert reg.import_errors["alpha"].startswith(
        "checks/alpha_extra.py: NameError: name 'undefined_name' is not defined")
    assert reg.import_errors["zeta"].startswith("checks/zeta.py: SyntaxError")
    assert "alpha_extra.py" in reg.import_errors["alpha"]  # the traceback points at the file


def test_broken_modules_fail_as_import_checks_and_the_rest_runs(fake_package: str) -> None:
    pkg = __import__(fake_package)
    reg: Registry = pkg.REG
    discover(fake_package, pkg.__path__, registry=reg)
    report = run(Settings(["alpha", "zeta"], {"alpha": Target("h", 1000)}), reg)
    got = [(r.service, r.name, r.passed) for r in report.results]
    assert got == [
        ("alpha", "import", False),
        ("alpha", "works", True),
        ("alpha", "extra", True),  # registered before the module broke: still run
        ("zeta", "import", False),
    ]


def test_discover_is_idempotent(fake_package: str) -> None:
    pkg = __import__(fake_package)
    reg: Registry = pkg.REG
    discover(fake_package, pkg.__path__, registry=reg)
    discover(fake_package, pkg.__path__, registry=reg)
    assert [c.name for c in reg.checks] == ["works", "extra"]


def test_service_of_picks_the_longest_registered_prefix() -> None:
    services = ["flask", "flask_api", "tcp_chat"]
    assert service_of("flask_api_httpbin", services) == "flask_api"
    assert service_of("tcp_chat", services) == "tcp_chat"
    assert service_of("tcp_chatty", services) == "tcp_chatty"


def test_every_real_check_module_is_seen() -> None:
    folder = Path(__file__).resolve().parents[2] / "client_runner" / "checks"
    modules = {p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")} - {"base"}
    reg = Registry()
    loaded = discover(registry=reg)
    failed = {line.split(".py:")[0].removeprefix("checks/")
              for text in reg.import_errors.values()
              for line in text.splitlines() if line.startswith("checks/")}
    assert set(loaded) | failed == modules
