"""Pure checks of request bodies and queries: no Flask, no database, tested directly.

Two kinds of failure, as the API reports them: a ``Malformed`` body (not a JSON object, a field
of the wrong type) is a 400; a well-formed body whose values break a rule is ``Invalid`` (422)
and says which field broke which rule, so a client can show it next to the right input.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

USERNAME_RE = re.compile(r"[A-Za-z0-9_]{3,20}", re.ASCII)
# A sane subset of RFC 5321 addresses: dot-atom local part, a dotted hostname of LDH labels.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_RE = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    rf"@{_LABEL}(?:\.{_LABEL})+",
    re.ASCII,
)
EMAIL_MAX = 254
EMAIL_LOCAL_MAX = 64
PASSWORD_MIN_BYTES = 12
PASSWORD_MAX_BYTES = 72  # bcrypt looks at no more than 72 bytes; longer would be silently cut

USER_FIELDS = ("username", "email", "password")


class Malformed(ValueError):
    """The request cannot be read as what the route expects (HTTP 400)."""


class Invalid(ValueError):
    """The request is readable but breaks rules; ``fields`` maps each field to what is wrong."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def parse_json(body: bytes) -> Any:
    """Decode a JSON body strictly: UTF-8, no NaN/Infinity, bounded nesting."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("body is not valid UTF-8") from None
    if not text.strip():
        raise Malformed("body is empty; expected JSON")

    def no_constants(name: str) -> Any:
        raise Malformed(f"{name} is not valid JSON")

    def finite(number: str) -> float:
        value = float(number)
        if not math.isfinite(value):  # 1e999: would be answered as Infinity, not JSON
            raise Malformed(f"number out of range: {number[:40]}")
        return value

    try:
        return json.loads(text, parse_constant=no_constants, parse_float=finite)
    except RecursionError:
        raise Malformed("JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise Malformed(f"invalid JSON: {exc.msg} at {where}") from None
    except Malformed:
        raise
    except ValueError as exc:  # an integer over sys.get_int_max_str_digits()
        raise Malformed(f"number out of range: {exc}") from None


def username_problem(value: str) -> str | None:
    if not USERNAME_RE.fullmatch(value):
        return "3 to 20 characters of A-Z, a-z, 0-9 and _"
    return None


def email_problem(value: str) -> str | None:
    if len(value) > EMAIL_MAX:
        return f"at most {EMAIL_MAX} characters"
    if not EMAIL_RE.fullmatch(value) or len(value.partition("@")[0]) > EMAIL_LOCAL_MAX:
        return "not a valid email address"
    return None


def password_problem(value: str) -> str | None:
    size = len(value.encode("utf-8", "surrogatepass"))
    if "\x00" in value:
        return "must not contain NUL characters"
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        return "must be valid Unicode text"
    if size < PASSWORD_MIN_BYTES:
        return f"at least {PASSWORD_MIN_BYTES} bytes (UTF-8)"
    if size > PASSWORD_MAX_BYTES:
        return f"at most {PASSWORD_MAX_BYTES} bytes (UTF-8)"
    return None


_PROBLEMS = {"username": username_problem, "email": email_problem, "password": password_problem}


def user_fields(
    data: Any, *, required: tuple[str, ...], allowed: tuple[str, ...] = USER_FIELDS
) -> dict[str, str]:
    """Check a users-API body: a JSON object of string fields, ``required`` ones present.

    Returns the accepted fields (``username``/``email``/``password``), nothing else.
    """
    if not isinstance(data, Mapping):
        raise Malformed("expected a JSON object")
    wrong_type = [k for k in allowed if k in data and not isinstance(data[k], str)]
    if wrong_type:
        raise Malformed(f"must be strings: {', '.join(wrong_type)}")
    problems: dict[str, str] = {}
    for key in data:
        if key not in allowed:
            problems[str(key)[:40]] = "unknown field"
    for key in required:
        if key not in data:
            problems[key] = "required"
    for key in allowed:
        if key in data:
            problem = _PROBLEMS[key](data[key])
            if problem:
                problems[key] = problem
    if problems:
        raise Invalid(problems)
    return {k: data[k] for k in allowed if k in data}


def login_fields(data: Any) -> tuple[str, str]:
    """A login body: username and password strings (not checked against the rules: a wrong
    guess must cost the same as any other, and rules may change after accounts exist)."""
    if not isinstance(data, Mapping):
        raise Malformed("expected a JSON object")
    problems = {k: "required" for k in ("username", "password") if k not in data}
    if problems:
        raise Invalid(problems)
    if not isinstance(data["username"], str) or not isinstance(data["password"], str):
        raise Malformed("username and password must be strings")
    if len(data["username"]) > 100 or len(data["password"].encode("utf-8", "replace")) > 1024:
        raise Invalid({"username": "too long"} if len(data["username"]) > 100
                      else {"password": "too long"})
    return data["username"], data["password"]


def page_args(args: Mapping[str, str], per_page_max: int) -> tuple[int, int]:
    """``?page=&per_page=`` as two integers, both within bounds, or ``Malformed``."""

    def integer(name: str, default: int, high: int) -> int:
        raw = args.get(name)
        if raw is None:
            return default
        if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
            raise Malformed(f"{name} must be a positive integer")
        value = int(raw)
        if not 1 <= value <= high:
            raise Malformed(f"{name} must be between 1 and {high}")
        return value

    return integer("page", 1, 10**9), integer("per_page", min(20, per_page_max), per_page_max)
