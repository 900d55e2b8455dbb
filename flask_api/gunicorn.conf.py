"""gunicorn settings for flask_api, every one from a FLASK_API_* variable with a safe default.

Workers are processes (the GIL is per process); with FLASK_API_THREADS > 1 each runs a thread
pool (gthread), which also keeps idle keep-alive connections off the workers. Request-line and
header limits answer oversized requests with 4xx before Flask sees them.
"""

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


bind = f"{os.environ.get('FLASK_API_HOST') or '127.0.0.1'}:{_int('FLASK_API_PORT', 5000)}"
# One worker per core, each with 8 threads: on the 2-core lab machine this answered /api/data
# about 10 % faster than gunicorn's usual 2 x cores + 1 workers with 4 threads (measured with
# bench/http_servers.py --workers/--threads); bcrypt releases the GIL while it hashes.
workers = _int("FLASK_API_WORKERS", max(2, min(os.cpu_count() or 1, 8)))
threads = _int("FLASK_API_THREADS", 8)
worker_class = "gthread" if threads > 1 else "sync"
backlog = _int("FLASK_API_BACKLOG", 256)
worker_connections = _int("FLASK_API_MAX_CONNECTIONS", 200)  # per worker, gthread
keepalive = _int("FLASK_API_KEEPALIVE", 5)
timeout = _int("FLASK_API_TIMEOUT", 30)  # a worker silent this long is killed and replaced
graceful_timeout = _int("FLASK_API_GRACEFUL_TIMEOUT", 2)
# Recycle a worker after this many requests, as a guard against leaks; rarely, since a restart
# costs about a second of CPU (at 10,000 it fired every few seconds under the benchmark).
max_requests = _int("FLASK_API_MAX_REQUESTS", 100_000)
max_requests_jitter = max_requests // 10

limit_request_line = _int("FLASK_API_LIMIT_REQUEST_LINE", 4094)
limit_request_fields = _int("FLASK_API_LIMIT_REQUEST_FIELDS", 100)
limit_request_field_size = _int("FLASK_API_LIMIT_REQUEST_FIELD_SIZE", 8190)

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("FLASK_API_LOG_LEVEL", "info")
# One line per request: client "request line" status bytes duration request-id, built by
# flask_api/accesslog.py with a fraction of the cost of gunicorn's general access_log_format.
logger_class = "flask_api.accesslog.AccessLogger"
proc_name = "flask_api"
# gunicorn's control socket (for `gunicornc`) would go under $HOME, which the non-root user in a
# read-only container does not have; the lab does not use it.
control_socket_disable = True
