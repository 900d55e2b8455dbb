#!/usr/bin/env bash
# Run every test of netlab: ruff, the unit and socket tests, the browser tests and the compose
# integration test (Docker needed for that one; set BASE_IMAGE to build offline).
# A virtualenv in .venv (NETLAB_VENV) gets the pinned dev and service requirements first.
# Extra arguments go to pytest, e.g. `scripts/test.sh tests/tcp_chat -x`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=${NETLAB_VENV:-.venv}
if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
stamp="$venv/.netlab-requirements"
want=$(cat requirements-dev.txt ./*/requirements.txt | sha256sum)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r requirements-dev.txt
    echo "$want" >"$stamp"
fi

echo "== ruff"
"$venv/bin/python" -m ruff check .
echo "== pytest"
exec "$venv/bin/python" -m pytest "$@"
