"""Pure tests of applying a room outcome to peers: encoding, closes, dropping the too slow."""

from __future__ import annotations

from tcp_chat import delivery
from tcp_chat.room import Outcome, Room


class FakePeer:
    def __init__(self, room_for: int = 100) -> None:
        self.sent: list[bytes] = []
        self.room_for = room_for
        self.closing = False
        self.aborted = False

    def send(self, data: bytes) -> bool:
        if len(self.sent) >= self.room_for:
            return False
        self.sent.append(data)
        return True

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = self.aborted = True


def joined(n: int) -> Room:
    room = Room()
    for cid in range(1, n + 1):
        room.join(cid)
    return room


def test_lines_reach_their_peers_encoded_and_unknown_ids_are_skipped() -> None:
    room, peers = joined(2), {1: FakePeer(), 2: FakePeer()}
    delivery.apply(room, peers, Outcome(deliveries=[(1, "<a> hi"), (2, "<a> hi"), (9, "x")]))
    assert peers[1].sent == [b"<a> hi\n"]
    assert peers[2].sent == [b"<a> hi\n"]


def test_close_follows_the_deliveries() -> None:
    room, peers = joined(1), {1: FakePeer()}
    delivery.apply(room, peers, Outcome(deliveries=[(1, "* bye guest-1")], close=[1]))
    assert peers[1].sent == [b"* bye guest-1\n"]
    assert peers[1].closing and not peers[1].aborted


def test_a_full_queue_drops_that_peer_and_the_others_hear_it_left() -> None:
    room, peers = joined(3), {1: FakePeer(), 2: FakePeer(room_for=0), 3: FakePeer()}
    hello = Outcome(deliveries=[(2, "<guest-1> hello"), (3, "<guest-1> hello")])
    delivery.apply(room, peers, hello)
    assert peers[2].aborted
    assert 2 not in room
    assert b"* guest-2 left (too slow)\n" in peers[1].sent
    assert b"* guest-2 left (too slow)\n" in peers[3].sent
