"""Where each service is: ``--target SERVICE=HOST:PORT``, then ``SERVICE_ADDR``, then localhost.

The same runner tests the lab inside compose (``TCP_CHAT_ADDR=tcp_chat:8888``) and services a
person started on the host (the default, ``localhost:<the service's port>``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .checks.base import Target

DEFAULT_HOST = "localhost"


class TargetError(ValueError):
    """An address that cannot be used, with a message that says which and why."""


def env_name(service: str) -> str:
    """``tcp_chat`` -> ``TCP_CHAT_ADDR``."""
    return f"{service.upper().replace('-', '_')}_ADDR"


def parse_address(text: str, default_port: int | None = None) -> Target:
    """``HOST:PORT``, ``[V6]:PORT``, a bare ``HOST`` (with a default port) or a bare ``PORT``."""
    text = text.strip()
    if not text:
        raise TargetError("empty address")
    host, port_text = text, ""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise TargetError(f"unclosed [ in {text!r}")
        host, rest = text[1:end], text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise TargetError(f"expected :PORT after ] in {text!r}")
            port_text = rest[1:]
    elif text.isdigit():
        host, port_text = DEFAULT_HOST, text
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    elif ":" in text:
        raise TargetError(f"IPv6 addresses need brackets: [{text}]:PORT")
    if not host:
        host = DEFAULT_HOST
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise TargetError(f"bad port {port_text!r} in {text!r} (1-65535)")
        return Target(host, int(port_text))
    if default_port is None:
        raise TargetError(f"no port in {text!r}: use HOST:PORT")
    return Target(host, default_port)


def parse_overrides(items: Iterable[str]) -> dict[str, str]:
    """``["tcp_chat=host:8888", ...]`` -> ``{"tcp_chat": "host:8888"}``."""
    out: dict[str, str] = {}
    for item in items:
        service, sep, addr = item.partition("=")
        if not sep or not service.strip() or not addr.strip():
            raise TargetError(f"--target wants SERVICE=HOST:PORT, got {item!r}")
        out[service.strip()] = addr.strip()
    return out


def resolve(
    services: Iterable[str],
    default_ports: Mapping[str, int],
    overrides: Mapping[str, str],
    env: Mapping[str, str],
) -> dict[str, Target]:
    """The target of every service that has an address; a service with none is left out."""
    targets: dict[str, Target] = {}
    for service in dict.fromkeys([*services, *overrides]):
        default = default_ports.get(service)
        where = f"--target {service}="
        text = overrides.get(service)
        if text is None:
            where = env_name(service) + "="
            text = env.get(env_name(service)) or None
        if text is None:
            if default is not None:
                targets[service] = Target(DEFAULT_HOST, default)
            continue
        try:
            targets[service] = parse_address(text, default)
        except TargetError as exc:
            raise TargetError(f"{where}{text}: {exc}") from None
    return targets
