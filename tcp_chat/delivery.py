"""Applying a room ``Outcome`` to live connections: the same rules for both transports.

Deliver every line (each distinct line encoded once), then close who asked to leave; a peer whose
bounded queue refused a line is dropped and its leave notice is delivered in turn, until nothing
is left. No I/O here: a ``Peer`` is whatever the transport wraps a connection in.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Protocol

from tcp_chat.protocol import encode_line
from tcp_chat.room import TOO_SLOW, Outcome, Room

log = logging.getLogger("tcp_chat")


class Peer(Protocol):
    closing: bool

    def send(self, data: bytes) -> bool:
        """Queue ``data``; False if the peer's queue is full (it is too slow)."""

    def close(self) -> None:
        """Flush what is queued, then close."""

    def abort(self) -> None:
        """Close now, dropping what is queued."""


def apply(room: Room, peers: Mapping[int, Peer], outcome: Outcome) -> None:
    while outcome.deliveries or outcome.close:
        encoded: dict[str, bytes] = {}
        slow: list[int] = []
        for cid, line in outcome.deliveries:
            peer = peers.get(cid)
            if peer is None:
                continue
            data = encoded.get(line)
            if data is None:
                data = encoded[line] = encode_line(line)
            if not peer.send(data):
                slow.append(cid)
        for cid in outcome.close:
            if (peer := peers.get(cid)) is not None:
                peer.close()
        outcome = Outcome()
        for cid in slow:
            peer = peers.get(cid)
            if peer is None or peer.closing:
                continue
            log.info("dropping %s: outbound queue full", room.nick(cid) or cid)
            peer.abort()
            outcome.deliveries.extend(room.leave(cid, TOO_SLOW).deliveries)
