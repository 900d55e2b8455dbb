"""sslyze, the standard TLS scanner, against the real server with make_certs.sh certificates:
it must call the configuration compliant with Mozilla's intermediate profile (versions, ciphers,
groups, certificate type and lifetime). No Docker needed; sslyze==6.3.1 from requirements-dev."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(180)

if importlib.util.find_spec("sslyze") is None:
    if os.environ.get("CI"):
        raise RuntimeError("sslyze is required in CI (pip install sslyze==6.3.1)")
    pytest.skip("sslyze not installed (pip install sslyze==6.3.1)", allow_module_level=True)


def sslyze(port: int, ca: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "OPENSSL_CONF"}
    return subprocess.run(
        [sys.executable, "-m", "sslyze", "--mozilla_config=intermediate",
         "--certinfo_ca_file", str(ca), f"127.0.0.1:{port}"],
        capture_output=True, text=True, timeout=150, env=env,
    )


def test_sslyze_says_mozilla_intermediate_compliant(server, certs: Path) -> None:
    done = sslyze(server.port, certs / "ca.crt")
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-2000:]
    assert f"127.0.0.1:{server.port}: OK - Compliant." in out, out[-3000:]
    (line,) = [line for line in out.splitlines() if "Supported curves:" in line]
    curves = sorted(c.strip() for c in line.split(":", 1)[1].split(","))
    assert curves == ["X25519", "secp256r1", "secp384r1"], line


def test_sslyze_notices_a_non_compliant_server(start_server, certs: Path) -> None:
    """The same scan against the server without our openssl.cnf (OpenSSL's default groups
    include X448 and P-521): sslyze must say "not compliant", so the test above can fail."""
    bare = Path(__file__).with_name("openssl-bare.cnf")
    server = start_server(env={"OPENSSL_CONF": str(bare)})
    done = sslyze(server.port, certs / "ca.crt")
    assert done.returncode != 0
    assert f"127.0.0.1:{server.port}: FAILED - Not compliant." in done.stdout, done.stdout[-2000:]
    assert "X448" in done.stdout.split("Supported curves:")[1].splitlines()[0]
