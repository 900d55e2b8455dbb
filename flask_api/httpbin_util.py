"""Pure helpers of the httpbin-compatible endpoints: parsing, limits and JSON shaping.

Nothing here touches Flask's request globals, so every rule (which status lists are valid, which
redirect targets are local, how a body becomes httpbin's ``data``) is unit-tested directly.
"""

from __future__ import annotations

import base64
import json
import math
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# --- Limits (defaults; each may be overridden by the app config key HTTPBIN_<NAME>) -------------
# Largest request body any endpoint reads (go-httpbin's MAX_BODY_SIZE): 413 beyond it.
MAX_BODY_SIZE = 1024 * 1024
# Most multipart/urlencoded fields or files parsed from one body: 413 beyond it.
MAX_FORM_PARTS = 100
# Longest /delay/<n> in seconds (httpbin's cap; go-httpbin's MAX_DURATION): 400 beyond it.
MAX_DELAY = 10.0
# /delay requests sleeping at once in one process: 503 beyond it, so slow endpoints cannot take
# every thread of a gunicorn worker (4 by default) from the users API sharing the process.
MAX_CONCURRENT_DELAYS = 2
# Largest /bytes/<n> (httpbin's 100 KiB): 400 beyond it.
MAX_BYTES = 100 * 1024
# Longest redirect chain of /redirect/<n> and friends (requests follows 30 by default): 400 beyond.
MAX_REDIRECTS = 20
# Most entries in a /status/<codes> list such as "200:1,500:3": 400 beyond it.
MAX_STATUS_CHOICES = 50
# Largest max-age of /cache/<n> (one year, the longest RFC 9111 suggests): 400 beyond it.
MAX_CACHE_AGE = 365 * 24 * 3600
# Most cookies one /cookies/set or /cookies/delete request may name: 400 beyond it.
MAX_COOKIES = 20
# Longest cookie name plus value (the 4096 bytes browsers keep, RFC 6265 section 6.1): 400 beyond.
MAX_COOKIE_SIZE = 4096

LIMITS: dict[str, float] = {
    "MAX_BODY_SIZE": MAX_BODY_SIZE,
    "MAX_FORM_PARTS": MAX_FORM_PARTS,
    "MAX_DELAY": MAX_DELAY,
    "MAX_CONCURRENT_DELAYS": MAX_CONCURRENT_DELAYS,
    "MAX_BYTES": MAX_BYTES,
    "MAX_REDIRECTS": MAX_REDIRECTS,
    "MAX_STATUS_CHOICES": MAX_STATUS_CHOICES,
    "MAX_CACHE_AGE": MAX_CACHE_AGE,
    "MAX_COOKIES": MAX_COOKIES,
    "MAX_COOKIE_SIZE": MAX_COOKIE_SIZE,
}


class BadInput(ValueError):
    """A path or query value the endpoint cannot honour; the view answers 400 with the message."""


def limit(config: Mapping[str, Any], name: str) -> float:
    """The limit ``name`` from app config ``HTTPBIN_<name>``, else the module default."""
    value = config.get(f"HTTPBIN_{name}")
    return LIMITS[name] if value is None else value


# --- JSON shaping, as httpbin's helpers.get_dict does it ----------------------------------------


def semiflatten(pairs: Iterable[tuple[str, list[str]]]) -> dict[str, str | list[str]]:
    """A key with one value maps to that string, a repeated key to the list of its values."""
    return {key: values[0] if len(values) == 1 else list(values) for key, values in pairs}


def json_safe(raw: bytes, content_type: str = "application/octet-stream") -> str:
    """UTF-8 text as is; anything else as an RFC 2397 ``data:`` URL in base64 (httpbin's rule)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return f"data:{content_type};base64,{base64.b64encode(raw).decode('ascii')}"


def parse_json(raw: bytes) -> Any:
    """The body as JSON, or None when it is not JSON (httpbin never fails on a bad body)."""
    if not raw:
        return None
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_not_json, parse_float=_finite)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def _not_json(name: str) -> Any:
    """NaN and Infinity are not JSON: echoed back they would make the answer unparseable."""
    raise ValueError(f"{name} is not JSON")


def _finite(number: str) -> float:
    value = float(number)
    if not math.isfinite(value):  # 1e999 parses as inf, echoed back as Infinity
        raise ValueError(f"number out of range: {number[:40]}")
    return value


# --- /status/<codes> ----------------------------------------------------------------------------

_CODE = re.compile(r"^\s*(\d{3})\s*$")


def parse_status_codes(
    codes: str, max_choices: int = MAX_STATUS_CHOICES
) -> list[tuple[int, float]]:
    """``"418"`` or ``"200:1,500:3"`` -> [(code, weight), ...]; BadInput when invalid.

    Codes must be 200-599: a 1xx is not a final response, so a client would wait forever.
    """
    parts = codes.split(",")
    if len(parts) > max_choices:
        raise BadInput(f"at most {max_choices} status codes")
    choices: list[tuple[int, float]] = []
    for part in parts:
        code_text, _, weight_text = part.partition(":")
        match = _CODE.match(code_text)
        if not match or not 200 <= int(match.group(1)) <= 599:
            raise BadInput("Invalid status code")
        weight = 1.0
        if weight_text:
            try:
                weight = float(weight_text)
            except ValueError:
                raise BadInput("Invalid status code weight") from None
            if not math.isfinite(weight) or weight < 0:
                raise BadInput("Invalid status code weight")
        choices.append((int(match.group(1)), weight))
    if sum(w for _, w in choices) <= 0:
        raise BadInput("Invalid status code weights: they add up to zero")
    return choices


def weighted_choice(choices: list[tuple[int, float]], rng: random.Random | None = None) -> int:
    """One code, each picked with probability weight / total weight."""
    rng = rng or random.Random()
    codes = [c for c, _ in choices]
    weights = [w for _, w in choices]
    return rng.choices(codes, weights=weights, k=1)[0]


@dataclass(frozen=True)
class StatusReply:
    status: int
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()


_TEAPOT = """
    -=[ teapot ]=-
       _...._
     .'  _ _ `.
    | ."` ^ `". _,
    \\_;`"---"`|//
      |       ;/
      \\_     _/
        `\"\"\"`
"""


def status_reply(code: int) -> StatusReply:
    """What httpbin sends for /status/<code>: redirects point somewhere, 401/407 challenge."""
    if code in (301, 302, 303, 305, 307, 308):
        return StatusReply(code, headers=(("Location", "/redirect/1"),))
    if code == 401:
        return StatusReply(code, headers=(("WWW-Authenticate", 'Basic realm="Fake Realm"'),))
    if code == 407:
        return StatusReply(code, headers=(("Proxy-Authenticate", 'Basic realm="Fake Realm"'),))
    if code == 418:
        return StatusReply(code, _TEAPOT, (("x-more-info", "http://tools.ietf.org/html/rfc2324"),))
    return StatusReply(code)


# --- /delay, /bytes, /redirect, /cache -----------------------------------------------------------


def parse_delay(text: str, max_delay: float = MAX_DELAY) -> float:
    """Seconds as a finite float in [0, max_delay]; BadInput beyond (httpbin clamps, we refuse)."""
    try:
        seconds = float(text)
    except ValueError:
        raise BadInput("Invalid delay: not a number") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise BadInput("Invalid delay: must be a finite number of seconds >= 0")
    if seconds > max_delay:
        raise BadInput(f"Invalid delay: at most {max_delay:g} seconds")
    return seconds


def check_range(value: int, low: int, high: float, what: str) -> int:
    if not low <= value <= high:
        raise BadInput(f"Invalid {what}: must be in {low}..{int(high)}")
    return value


def parse_seed(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise BadInput("Invalid seed: must be an integer") from None


def random_bytes(n: int, seed: int | None) -> bytes:
    """``n`` pseudo-random bytes, the same ones for the same seed (a private RNG, thread-safe)."""
    return random.Random(seed).randbytes(n)


# --- /redirect-to and cookies ---------------------------------------------------------------------


def is_local_redirect(url: str) -> bool:
    """True only for a path on this server: ``/x``, never ``//host``, ``/\\host`` or ``http:``.

    Browsers treat backslashes as slashes and drop tabs/newlines, so both are refused too; this is
    what stops /redirect-to from being an open redirect.
    """
    if not url.startswith("/") or url.startswith(("//", "/\\")):
        return False
    return not any(ch == "\\" or ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url)


# RFC 6265 cookie-name = token (RFC 9110 tchar). Any value is fine: werkzeug quotes and escapes
# what is not a plain cookie-octet, so a value can never split or inject a header.
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def check_cookie(name: str, value: str, max_size: float = MAX_COOKIE_SIZE) -> None:
    if not _TOKEN.match(name):
        raise BadInput(f"Invalid cookie name: {name[:40]!r}")
    if len(name) + len(value) > max_size:
        raise BadInput(f"Cookie {name[:40]!r} is longer than {int(max_size)} bytes")


def check_count(count: int, max_count: float, what: str) -> None:
    if count > max_count:
        raise BadInput(f"Too many {what}: at most {int(max_count)}")


def parse_bearer(header: str | None) -> str | None:
    """The token of ``Authorization: Bearer <token>``, or None for anything else."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token
