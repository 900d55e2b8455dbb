"""Who may use the proxy, and where to: client networks, Basic credentials, port lists.

Pure functions over strings and addresses, so every rule is unit-tested without a socket.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
from collections.abc import Iterable

# Loopback and the private ranges: a lab proxy must never relay for the whole internet.
DEFAULT_NETWORKS: tuple[str, ...] = (
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "::1/128",
    "fc00::/7",
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(items: Iterable[str]) -> tuple[Network, ...]:
    """CIDRs (or single addresses); a bad one raises ``ValueError`` naming it."""
    out: list[Network] = []
    for item in items:
        text = item.strip()
        if not text:
            continue
        try:
            out.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"bad network {text!r} (use a CIDR such as 10.0.0.0/8)") from None
    return tuple(out)


def client_allowed(address: str, networks: tuple[Network, ...]) -> bool:
    """True when ``address`` (IPv4, IPv6 or IPv4-mapped IPv6) is inside one of ``networks``."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)


def parse_ports(text: str) -> frozenset[int]:
    """``"443,8443,1025-65535"`` -> the set of ports; ``ValueError`` on anything else."""
    ports: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        low, _, high = part.partition("-")
        try:
            a, b = int(low), int(high or low)
        except ValueError:
            raise ValueError(f"bad port or range {part!r}") from None
        if not 1 <= a <= b <= 65535:
            raise ValueError(f"port range {part!r} outside 1-65535")
        ports.update(range(a, b + 1))
    return frozenset(ports)


class BasicAuth:
    """``Proxy-Authorization: Basic`` against one user and password (off when both are empty)."""

    realm = "netlab proxy"

    def __init__(self, user: str = "", password: str = "") -> None:
        self.enabled = bool(user or password)
        self._user = user.encode()
        self._password = password.encode()

    @property
    def challenge(self) -> str:
        return f'Basic realm="{self.realm}", charset="UTF-8"'

    def check(self, header: bytes | None) -> bool:
        """True if auth is off or ``header`` carries the right credentials.

        Both halves are compared with ``hmac.compare_digest`` (and both always compared), so the
        time taken does not tell which half or how many bytes were right."""
        if not self.enabled:
            return True
        if not header:
            return False
        scheme, _, token = header.strip().partition(b" ")
        if scheme.lower() != b"basic":
            return False
        try:
            decoded = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        user, sep, password = decoded.partition(b":")
        user_ok = hmac.compare_digest(user, self._user)
        pass_ok = hmac.compare_digest(password, self._password)
        return bool(sep) and user_ok and pass_ok
