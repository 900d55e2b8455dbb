"""make_certs.sh, the script the Dockerfile runs on every build: what it makes, and what not."""

from __future__ import annotations

import re
import ssl
import stat
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest


def x509(path: Path, *args: str) -> str:
    done = subprocess.run(["openssl", "x509", "-in", str(path), "-noout", *args],
                          capture_output=True, text=True, check=True)
    return done.stdout


def days_valid(path: Path) -> float:
    text = x509(path, "-startdate", "-enddate")
    start, end = (datetime.strptime(v, "%b %d %H:%M:%S %Y %Z")
                  for v in re.findall(r"=(.+)", text))
    return (end - start).total_seconds() / 86400


def test_files_and_permissions(certs: Path) -> None:
    names = sorted(p.name for p in certs.iterdir())
    assert names == ["ca.crt", "client.crt", "client.key", "server.crt", "server.key"]
    for key in ("server.key", "client.key"):
        assert stat.S_IMODE((certs / key).stat().st_mode) == 0o600
    assert not list(certs.glob("ca.key")), "the CA key must not be kept"


def test_server_certificate(certs: Path) -> None:
    text = x509(certs / "server.crt", "-text")
    assert "NIST CURVE: P-256" in text and "ecdsa-with-SHA256" in text
    assert "DNS:tls_server, DNS:localhost, IP Address:127.0.0.1" in text
    assert re.search(r"Basic Constraints: critical\s+CA:FALSE", text)
    assert re.search(r"Key Usage: critical\s+Digital Signature\n", text)
    assert re.search(r"Extended Key Usage:\s*\n\s+TLS Web Server Authentication\n", text)
    assert days_valid(certs / "server.crt") <= 366


def test_ca_and_client_certificates(certs: Path) -> None:
    ca = x509(certs / "ca.crt", "-text")
    assert re.search(r"Basic Constraints: critical\s+CA:TRUE", ca)
    assert re.search(r"Key Usage: critical\s+Certificate Sign, CRL Sign", ca)
    client = x509(certs / "client.crt", "-text")
    assert "TLS Web Client Authentication" in client and "CN = netlab-demo-client" in client
    verify = subprocess.run(["openssl", "verify", "-CAfile", str(certs / "ca.crt"),
                             str(certs / "server.crt"), str(certs / "client.crt")],
                            capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    ssl.create_default_context(cafile=str(certs / "ca.crt"))  # loads as a trust anchor


MakeCerts = Callable[..., subprocess.CompletedProcess[str]]


def test_every_run_makes_a_new_ca(tmp_path: Path, certs: Path, run_make_certs: MakeCerts) -> None:
    assert run_make_certs(tmp_path / "again").returncode == 0
    assert (tmp_path / "again" / "ca.crt").read_bytes() != (certs / "ca.crt").read_bytes()
    assert x509(tmp_path / "again" / "ca.crt", "-serial") != x509(certs / "ca.crt", "-serial")


def test_rsa_variant(tmp_path: Path, run_make_certs: MakeCerts) -> None:
    done = run_make_certs(tmp_path / "rsa", "rsa")
    assert done.returncode == 0, done.stderr
    assert "Public-Key: (2048 bit)" in x509(tmp_path / "rsa" / "server.crt", "-text")


@pytest.mark.parametrize(("kind", "env"), [("dsa", {}), ("ec", {"CERT_DAYS": "400"})])
def test_refuses_bad_requests(
    tmp_path: Path, kind: str, env: dict[str, str], run_make_certs: MakeCerts
) -> None:
    done = run_make_certs(tmp_path / "bad", kind, **env)
    assert done.returncode != 0
    assert not (tmp_path / "bad" / "server.crt").exists()
