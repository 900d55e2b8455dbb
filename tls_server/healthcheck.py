"""`python -m tls_server.healthcheck`: exit 0 when a *verified* TLS handshake works and the server
answers; compose runs it inside the container, so it checks the certificate the image made."""

from __future__ import annotations

import os
import socket
import ssl
import sys


def main() -> int:
    port = int(os.environ.get("TLS_SERVER_PORT", "8443"))
    ca_file = os.environ.get("TLS_SERVER_CA_FILE", "/certs/ca.crt")
    try:
        ctx = ssl.create_default_context(cafile=ca_file)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        with (
            socket.create_connection(("127.0.0.1", port), timeout=3) as raw,
            ctx.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            reader = tls.makefile("rb")
            greeting = reader.readline(4096)
            tls.sendall(b"quit\n")
            bye = reader.readline(4096)
    except (OSError, ValueError) as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    if not greeting.startswith(b"* tls_server") or bye.strip() != b"= bye":
        print(f"unhealthy: unexpected answer {greeting!r} {bye!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
