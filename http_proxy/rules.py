"""Filtering and modification: blocked hosts and paths, headers added to or removed from messages.

Configuration comes from flags/env (lists) or a JSON file::

    {"block_hosts": ["blocked.example"], "block_paths": ["/admin"],
     "request_headers": {"add": {"X-Lab": "1"}, "remove": ["User-Agent"]},
     "response_headers": {"add": {"X-Filtered": "yes"}, "remove": ["Server"]}}

A blocked host also blocks its subdomains; a blocked path is a prefix of the request path
(``/admin`` blocks ``/admin`` and ``/admin/x``, not ``/administrator``). Headers that frame the
message or route it (Content-Length, Transfer-Encoding, Host, Connection ...) cannot be touched
by a rule: changing them would desynchronise the proxy from its peers.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

Headers = list[tuple[bytes, bytes]]

PROTECTED = frozenset(
    {b"content-length", b"transfer-encoding", b"host", b"connection", b"keep-alive", b"upgrade",
     b"te", b"trailer", b"proxy-authorization", b"proxy-authenticate", b"x-cache", b"via"}
)
_TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_VALUE = re.compile(rb"^[\t\x20-\x7e\x80-\xff]*$")


@dataclass(frozen=True)
class HeaderRules:
    add: tuple[tuple[bytes, bytes], ...] = ()
    remove: frozenset[bytes] = frozenset()

    @property
    def drop_names(self) -> frozenset[bytes]:
        """Lower-case names ``apply`` removes: the removed ones and those it replaces."""
        return self.remove | {name.lower() for name, _ in self.add}

    def apply(self, headers: Headers) -> Headers:
        """``headers`` without the removed names, then the added ones (replacing same names)."""
        if not self.add and not self.remove:
            return headers
        drop = self.drop_names
        return [(n, v) for n, v in headers if n.lower() not in drop] + list(self.add)


@dataclass(frozen=True)
class Rules:
    block_hosts: frozenset[str] = frozenset()
    block_paths: tuple[str, ...] = ()
    request: HeaderRules = field(default_factory=HeaderRules)
    response: HeaderRules = field(default_factory=HeaderRules)

    def blocked(self, host: str, path: str = "/") -> str | None:
        """Why a request to ``host`` + ``path`` is refused, or None if it is not."""
        host = host.lower().rstrip(".")
        labels = host.split(".")
        for i in range(len(labels)):
            if ".".join(labels[i:]) in self.block_hosts:
                return f"host {host} is blocked"
        # Compare the path as an origin would read it: %XX decoded, "//" collapsed, "." and
        # ".." resolved; otherwise "//admin" or "/%61dmin" would pass a rule for "/admin".
        path_only = posixpath.normpath(re.sub(r"/+", "/", "/" + unquote(path.split("?", 1)[0])))
        path_only = re.sub(r"/+", "/", path_only)
        for prefix in self.block_paths:
            if path_only == prefix or path_only.startswith(prefix.rstrip("/") + "/"):
                return f"path {prefix} is blocked"
        return None


def header_rule(name: str, value: str = "") -> tuple[bytes, bytes]:
    """A validated (name, value) pair; ``ValueError`` for a protected or malformed header."""
    raw_name, raw_value = name.strip().encode(), value.strip().encode()
    if not _TOKEN.match(raw_name):
        raise ValueError(f"bad header name {name!r}")
    if raw_name.lower() in PROTECTED or raw_name.lower().startswith(b"proxy-"):
        raise ValueError(f"header {name!r} frames or routes the message; a rule cannot change it")
    if not _VALUE.match(raw_value):
        raise ValueError(f"bad value for header {name!r}")
    return raw_name.lower(), raw_value


def parse_header_line(line: str) -> tuple[bytes, bytes]:
    """``"X-Lab: 1"`` -> (b"x-lab", b"1")."""
    name, sep, value = line.partition(":")
    if not sep:
        raise ValueError(f"expected 'Name: value', got {line!r}")
    return header_rule(name, value)


def _header_rules(add: Iterable[tuple[bytes, bytes]], remove: Iterable[str]) -> HeaderRules:
    return HeaderRules(tuple(add), frozenset(header_rule(n)[0] for n in remove if n.strip()))


def build_rules(
    *,
    block_hosts: Iterable[str] = (),
    block_paths: Iterable[str] = (),
    add_request: Iterable[str] = (),
    remove_request: Iterable[str] = (),
    add_response: Iterable[str] = (),
    remove_response: Iterable[str] = (),
    document: Mapping[str, Any] | None = None,
) -> Rules:
    """Rules from flag lists plus an optional parsed JSON document (both are combined)."""
    doc = dict(document or {})
    unknown = set(doc) - {"block_hosts", "block_paths", "request_headers", "response_headers"}
    if unknown:
        raise ValueError(f"unknown keys in rules file: {sorted(unknown)}")
    hosts = [*block_hosts, *_strings(doc, "block_hosts")]
    paths = [*block_paths, *_strings(doc, "block_paths")]
    for p in paths:
        if not p.startswith("/"):
            raise ValueError(f"blocked path {p!r} must start with /")
    sides = []
    for key, add, remove in (
        ("request_headers", add_request, remove_request),
        ("response_headers", add_response, remove_response),
    ):
        part = doc.get(key) or {}
        if not isinstance(part, dict) or set(part) - {"add", "remove"}:
            raise ValueError(f"{key} must be {{'add': {{name: value}}, 'remove': [names]}}")
        adds = [parse_header_line(line) for line in add if line.strip()]
        extra = part.get("add") or {}
        if not isinstance(extra, dict):
            raise ValueError(f"{key}.add must map names to values")
        adds += [header_rule(str(n), str(v)) for n, v in extra.items()]
        sides.append(_header_rules(adds, [*remove, *_strings(part, "remove")]))
    return Rules(
        block_hosts=frozenset(h.strip().lower().rstrip(".") for h in hosts if h.strip()),
        block_paths=tuple(p.strip() for p in paths if p.strip()),
        request=sides[0],
        response=sides[1],
    )


def _strings(doc: Mapping[str, Any], key: str) -> list[str]:
    value = doc.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key} must be a list of strings")
    return value


def load_rules_file(path: str) -> dict[str, Any]:
    """The parsed JSON object of a rules file; ``ValueError`` with the reason otherwise."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read rules file {path}: {exc}") from None
    if not isinstance(doc, dict):
        raise ValueError(f"rules file {path} must hold a JSON object")
    return doc
