"""BASELINE for bench/http_servers.py, not a lab service: the course's http.server design.

One ``socketserver.TCPServer`` (a single thread: one connection at a time), a
``BaseHTTPRequestHandler`` speaking HTTP/1.0 with no Content-Length (every response ends with a
close) and the same ``/api/data`` document as http_custom. It exists only so the benchmark can
measure http_custom beside the design it replaces, in the same run on the same machine.

    python3 -m bench.http_baseline PORT    (from the repo root)
"""

from __future__ import annotations

import json
import socketserver
import sys
import time
from http.server import BaseHTTPRequestHandler


class CourseHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/api/data":
            body = json.dumps({"status": "success", "message": "Hello from the baseline",
                               "timestamp": time.time(), "data": [1, 2, 3, 4, 5]})
            self.send_response(200)
            self.send_header("Content-type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode("utf-8"))
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # the course silences its log too


def main() -> None:
    port = int(sys.argv[1])
    socketserver.TCPServer.allow_reuse_address = True
    with socketserver.TCPServer(("127.0.0.1", port), CourseHandler) as httpd:
        httpd.serve_forever()


if __name__ == "__main__":
    main()
