"""The whole lab in Docker, as CI and a user run it: build, prove every service, then poke it.

The tests share one stack and run in file order: the first is the CI form of the README
(`docker compose up --build --exit-code-from client_runner`); the later ones start the servers
again and check what a person would do with them from the host.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from .conftest import BUILD_TIMEOUT, ROOT, Stack

pytestmark = pytest.mark.integration


def read_line(sock: socket.socket) -> str:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
    return data.decode().rstrip("\r\n")


def test_runner_exits_zero_and_reports_every_check(stack: Stack) -> None:
    done = stack.compose(
        "up", "--build", "--exit-code-from", "client_runner", timeout=BUILD_TIMEOUT
    )
    runner_out = done.stdout + done.stderr
    (ROOT / "artifacts").mkdir(exist_ok=True)
    (ROOT / "artifacts" / "compose-up.log").write_text(runner_out)
    assert done.returncode == 0, runner_out[-6000:]

    report = json.loads((stack.reports / "report.json").read_text())
    checks = report["checks"]
    failed = [c for c in checks if not c["passed"]]
    assert not failed, failed
    services = {c["service"] for c in checks}
    assert services == set(stack.runner_services()), services
    for service in services:
        assert sum(c["service"] == service for c in checks) >= 3, service
    junit = (stack.reports / "junit.xml").read_text()
    assert f'tests="{len(checks)}"' in junit or "<testsuites" in junit
    assert f"{len(checks)} passed, 0 failed" in runner_out


def test_servers_come_back_healthy_as_non_root_on_loopback(stack: Stack) -> None:
    servers = stack.servers()
    stack.compose("up", "--detach", "--wait", *servers, timeout=300, check=True)
    for service in servers:
        uid = stack.compose("exec", "-T", service, "id", "-u", check=True).stdout.strip()
        assert uid == "10001", f"{service} runs as uid {uid}"
    ps = stack.compose("ps", "--format", "json", check=True).stdout
    rows = [json.loads(line) for line in ps.splitlines() if line.strip()]
    published = [p for row in rows for p in row.get("Publishers") or [] if p.get("PublishedPort")]
    assert published, ps
    for p in published:
        assert p["URL"] in ("127.0.0.1", "::1"), p


def test_host_nc_user_chats_with_the_terminal_client(stack: Stack) -> None:
    host, port = stack.address("tcp_chat", 8888)
    with socket.create_connection((host, port), timeout=10) as raw:
        raw.settimeout(10)
        assert read_line(raw).startswith("* welcome ")
        raw.sendall(b"/nick hostnc\n")
        assert read_line(raw) == "= nick hostnc"
        client = subprocess.Popen(
            [sys.executable, "-m", "client_runner", "chat", "--target", f"{host}:{port}"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert client.stdin is not None
            client.stdin.write("/nick term\n")
            client.stdin.flush()
            lines = []
            while "* guest-" not in "".join(lines) or not any("is now term" in x for x in lines):
                lines.append(read_line(raw))
            client.stdin.write("hello from the terminal\n")
            client.stdin.flush()
            assert read_line(raw) == "<term> hello from the terminal"
            raw.sendall(b"hello from nc\n")
            assert read_line(raw).startswith("> delivered to ")
            client.stdin.write("/quit\n")
            client.stdin.flush()
            out, _ = client.communicate(timeout=20)
        finally:
            if client.poll() is None:
                client.kill()
        assert "<hostnc> hello from nc" in out, out
        assert read_line(raw) == "* term left"


def test_stopping_tcp_chat_fails_the_runner_naming_it(stack: Stack) -> None:
    stack.compose("stop", "tcp_chat", check=True)
    try:
        done = stack.compose(
            "run", "--rm", "--no-deps", "-e", "NETLAB_WAIT_SECONDS=5",
            "client_runner", "run", "--only", "tcp_chat",
            timeout=120,
        )
        out = done.stdout + done.stderr
        assert done.returncode != 0, out
        assert "tcp_chat unreachable after 5 s" in out, out[-3000:]
    finally:
        stack.compose("start", "tcp_chat", check=True)


def test_flask_api_users_survive_a_restart(stack: Stack) -> None:
    host, port = stack.address("flask_api", 5000)
    base = f"http://{host}:{port}"
    name = f"it_{uuid.uuid4().hex[:12]}"
    created = requests.post(
        f"{base}/api/users",
        json={"username": name, "email": f"{name}@example.org", "password": "correct horse 42"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]

    stack.compose("restart", "flask_api", check=True, timeout=120)
    stack.compose("up", "--detach", "--wait", "flask_api", check=True, timeout=120)
    host, port = stack.address("flask_api", 5000)  # the ephemeral host port may change
    again = requests.get(f"http://{host}:{port}/api/users/{user_id}", timeout=30)
    assert again.status_code == 200, again.text
    assert again.json()["username"] == name
    login = requests.post(
        f"http://{host}:{port}/api/login",
        json={"username": name, "password": "correct horse 42"},
        timeout=30,
    )
    assert login.status_code == 200, login.text


def test_reports_folder_holds_json_and_junit(stack: Stack) -> None:
    names = sorted(p.name for p in Path(stack.reports).iterdir())
    assert {"report.json", "junit.xml"} <= set(names), names


def test_proxy_with_auth_on_challenges_with_407(stack: Stack) -> None:
    stack.env.update(HTTP_PROXY_AUTH_USER="lab", HTTP_PROXY_AUTH_PASS="it-secret-42")
    try:
        stack.compose("up", "--detach", "--wait", "http_proxy", check=True, timeout=120)
        done = stack.compose(
            "run", "--rm", "--no-deps", "client_runner", "run", "--only", "http_proxy",
            timeout=180,
        )
        out = done.stdout + done.stderr
        assert done.returncode == 0, out[-4000:]
        assert "407 with 'Basic" in out, out[-4000:]
    finally:
        stack.env.pop("HTTP_PROXY_AUTH_USER")
        stack.env.pop("HTTP_PROXY_AUTH_PASS")
        stack.compose("up", "--detach", "--wait", "http_proxy", timeout=120)


def test_tls_server_is_mozilla_intermediate_compliant_from_the_host(
    stack: Stack, tmp_path: Path
) -> None:
    ca = tmp_path / "ca.crt"
    stack.compose("cp", "tls_server:/certs/ca.crt", str(ca), check=True)
    _, port = stack.address("tls_server", 8443)
    s_client = subprocess.run(
        ["openssl", "s_client", "-connect", f"localhost:{port}", "-servername", "localhost",
         "-CAfile", str(ca), "-verify_return_error", "-brief"],
        input="quit\n", capture_output=True, text=True, timeout=30,
    )
    assert s_client.returncode == 0, s_client.stdout + s_client.stderr
    assert "Verification: OK" in s_client.stdout + s_client.stderr
    sslyze = subprocess.run(
        [sys.executable, "-m", "sslyze", "--mozilla_config=intermediate",
         "--certinfo_ca_file", str(ca), f"localhost:{port}"],
        capture_output=True, text=True, timeout=300,
    )
    out = sslyze.stdout + sslyze.stderr
    assert sslyze.returncode == 0, out[-4000:]
    assert f"localhost:{port}: OK - Compliant." in out, out[-4000:]


def test_rebuilding_tls_server_makes_a_new_ca_that_clients_still_verify(
    stack: Stack, tmp_path: Path
) -> None:
    def ca_pem() -> str:
        stack.compose("cp", "tls_server:/certs/ca.crt", str(tmp_path / "ca.crt"), check=True)
        return (tmp_path / "ca.crt").read_text()

    before = ca_pem()
    stack.compose("build", "tls_server", check=True, timeout=BUILD_TIMEOUT)
    stack.compose("up", "--detach", "--wait", "tls_server", check=True, timeout=120)
    after = ca_pem()
    assert "BEGIN CERTIFICATE" in after
    assert after != before, "a second build kept the same CA"
    done = stack.compose(
        "run", "--rm", "--no-deps", "client_runner", "run", "--only", "tls_server", timeout=180
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    assert "8 passed, 0 failed" in out or " 0 failed" in out, out[-2000:]


def test_readme_try_it_lines_work_from_the_host(stack: Stack, tmp_path: Path) -> None:
    """The README's lines, with the ephemeral host ports of this run put in."""
    _, proxy = stack.address("http_proxy", 3128)
    curl = subprocess.run(
        ["curl", "-sS", "-i", "-x", f"http://localhost:{proxy}",
         "http://http_custom:8080/api/data"],
        capture_output=True, text=True, timeout=30,
    )
    assert curl.returncode == 0, curl.stderr
    assert curl.stdout.startswith("HTTP/1.1 200"), curl.stdout[:500]
    assert "Via:" in curl.stdout or "via:" in curl.stdout, curl.stdout[:800]

    ca = tmp_path / "ca.crt"
    stack.compose("cp", "tls_server:/certs/ca.crt", str(ca), check=True)
    tunnel = subprocess.run(
        ["openssl", "s_client", "-proxy", f"localhost:{proxy}", "-connect", "tls_server:8443",
         "-servername", "tls_server", "-CAfile", str(ca), "-verify_return_error", "-brief"],
        input="whoami\nquit\n", capture_output=True, text=True, timeout=30,
    )
    assert tunnel.returncode == 0, tunnel.stdout + tunnel.stderr
    assert "Verification: OK" in tunnel.stdout + tunnel.stderr

    _, ws = stack.address("ws_chat", 8765)
    page = subprocess.run(
        ["curl", "-sS", "-f", f"http://localhost:{ws}/"], capture_output=True, text=True,
        timeout=30,
    )
    assert page.returncode == 0, page.stderr
    assert "<html" in page.stdout.lower()

    _, web = stack.address("http_custom", 8080)
    index = subprocess.run(
        ["curl", "-sS", "-i", f"http://localhost:{web}/"], capture_output=True, text=True,
        timeout=30,
    )
    assert index.stdout.startswith("HTTP/1.1 200"), index.stdout[:300]

    _, api = stack.address("flask_api", 5000)
    got = subprocess.run(
        ["curl", "-sS", "-f", f"http://localhost:{api}/get?a=1"], capture_output=True, text=True,
        timeout=30,
    )
    assert json.loads(got.stdout)["args"] == {"a": "1"}


def test_udp_service_answers_ping_on_its_published_port(stack: Stack) -> None:
    host, port = stack.address("udp_service", 9999, "udp")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(2)
        for _ in range(5):  # UDP: a first datagram may race the port proxy; retry a few times
            udp.sendto(b"ping", (host, port))
            try:
                reply, _ = udp.recvfrom(2048)
                break
            except TimeoutError:
                continue
        else:
            raise AssertionError(f"no reply from udp_service at {host}:{port}")
    assert reply.startswith(b"PONG "), reply
