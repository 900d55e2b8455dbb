"""Static files from one folder, and nothing outside it.

The course falls back to ``SimpleHTTPRequestHandler`` for any unknown path, which serves the
whole working directory with listings. Here only regular files under one root are served; a
path that could climb out (``..`` plain or percent-encoded, backslashes, NUL, dot-files, empty
segments, symlinks resolving elsewhere) is simply not found, so nothing about the disk leaks.
"""

from __future__ import annotations

import mimetypes
import os
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from urllib.parse import unquote

from http_custom.protocol import Response

PREFIX = "/static/"
MAX_FILE_BYTES = 8 * 1024 * 1024  # the folder is ours; this only stops an accident
# Built-in table only: the answer must not depend on the host's /etc/mime.types.
TYPES = mimetypes.MimeTypes(filenames=())
DEFAULT_DIR = Path(__file__).resolve().parent / "static"


@dataclass(frozen=True)
class StaticFile:
    path: Path
    content_type: str


def content_type(name: str) -> str:
    kind, encoding = TYPES.guess_type(name, strict=False)
    if kind is None or encoding is not None:
        return "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "application/json",
                                            "image/svg+xml"):
        return f"{kind}; charset=utf-8"
    return kind


def resolve(root: Path, raw_path: str) -> StaticFile | None:
    """The file that ``raw_path`` (still percent-encoded, starting with /static/) names, or None.

    ``root`` must already be resolved (``Path.resolve()``), as ``StaticFiles`` does.
    """
    if not raw_path.startswith(PREFIX):
        return None
    rest = raw_path[len(PREFIX):]
    if "\\" in rest or "%5c" in rest.lower():
        return None
    try:
        decoded = unquote(rest, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        return None
    if "\\" in decoded or "\x00" in decoded:
        return None
    parts = decoded.split("/")
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        return None
    candidate = root.joinpath(*parts)
    try:
        real = Path(os.path.realpath(candidate))
        if root not in real.parents or not real.is_file():
            return None
    except (OSError, ValueError):  # e.g. ENAMETOOLONG, which is_file() does not swallow
        return None
    return StaticFile(real, content_type(real.name))


class StaticFiles:
    """Serves ``GET /static/...`` from ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.realpath(root))

    def response(self, raw_path: str) -> Response | None:
        found = resolve(self.root, raw_path)
        if found is None:
            return None
        try:
            stat = found.path.stat()
            if stat.st_size > MAX_FILE_BYTES:
                return None
            body = found.path.read_bytes()
        except OSError:
            return None
        headers = [
            ("Content-Type", found.content_type),
            ("Last-Modified", formatdate(stat.st_mtime, usegmt=True)),
            ("Cache-Control", "public, max-age=60"),
            ("X-Content-Type-Options", "nosniff"),
        ]
        return Response(200, headers, body)
