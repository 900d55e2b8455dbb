"""The compose stack under its own project name, with ephemeral host ports, removed afterwards.

Docker is required when CI is set: there the integration tests fail rather than skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT = 1800  # a cold build with the official images can be slow; the offline one is not


def docker_problem() -> str | None:
    if shutil.which("docker") is None:
        return "no docker client on PATH"
    for cmd in (["docker", "info"], ["docker", "compose", "version"]):
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=60)
        except subprocess.TimeoutExpired:
            return f"`{' '.join(cmd)}` hung"
        if done.returncode != 0:
            return f"`{' '.join(cmd)}` failed: {done.stderr.decode(errors='replace')[-300:]}"
    return None


@dataclass
class Stack:
    project: str
    env: dict[str, str]
    reports: Path

    def compose(
        self, *args: str, timeout: float = 300, check: bool = False, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["docker", "compose", "-p", self.project, *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=stdin,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"docker compose {' '.join(args)} exited {done.returncode}\n"
                f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
            )
        return done

    def address(self, service: str, port: int, protocol: str = "tcp") -> tuple[str, int]:
        """Where the host reaches ``service``'s ``port`` (its published, ephemeral host port)."""
        out = self.compose("port", "--protocol", protocol, service, str(port), check=True)
        host, _, published = out.stdout.strip().rpartition(":")
        return host, int(published)

    def runner_services(self) -> list[str]:
        config = json.loads(self.compose("config", "--format", "json", check=True).stdout)
        services = config["services"]["client_runner"]["environment"]["NETLAB_SERVICES"]
        return [s for s in services.split(",") if s]

    def servers(self) -> list[str]:
        names = self.compose("config", "--services", check=True).stdout.split()
        return [n for n in names if n != "client_runner"]


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    problem = docker_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"integration tests need Docker in CI: {problem}")
        pytest.skip(f"Docker not available: {problem}")
    reports = tmp_path_factory.mktemp("reports")
    reports.chmod(0o777)  # the runner writes as uid 10001
    env = {**os.environ, "NETLAB_REPORTS": str(reports)}
    env.pop("COMPOSE_PROJECT_NAME", None)
    # Ephemeral host ports: the tests never depend on 8888 & co. being free on this machine.
    for var in (
        "TCP_CHAT_HOST_PORT",
        "UDP_SERVICE_HOST_PORT",
        "HTTP_CUSTOM_HOST_PORT",
        "FLASK_API_HOST_PORT",
        "TLS_SERVER_HOST_PORT",
        "TLS_SERVER_MTLS_HOST_PORT",
        "HTTP_PROXY_HOST_PORT",
        "WS_CHAT_HOST_PORT",
    ):
        env[var] = ""
    stack = Stack(f"netlab-it-{uuid.uuid4().hex[:8]}", env, reports)
    try:
        yield stack
    finally:
        stack.compose("down", "--volumes", "--remove-orphans", "--rmi", "local", timeout=300)
