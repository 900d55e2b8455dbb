"""The udp_service protocol without sockets: bytes and a clock in, (address, bytes) out."""

from __future__ import annotations

import pytest

from udp_service.members import Members
from udp_service.protocol import Limits, UdpService
from udp_service.ratelimit import TokenBuckets

A = ("127.0.0.1", 40001)
B = ("127.0.0.1", 40002)
C = ("127.0.0.1", 40003)
WALL = 1_795_821_753.25  # 2026-11-27T23:22:33.250Z


def make(**limits: float) -> UdpService:
    return UdpService(Limits(**limits), wall_clock=lambda: WALL)  # type: ignore[arg-type]


def reply(service: UdpService, data: bytes, source: tuple = A, now: float = 0.0) -> str:
    out = service.handle(data, source, now)
    assert len(out) == 1 and out[0][0] == source, out
    assert out[0][1].endswith(b"\n")
    return out[0][1].decode()[:-1]


def stat(service: UdpService, key: str) -> int:
    fields = dict(p.split("=") for p in service.stats.render(len(service.members)).split()[1:])
    return int(fields[key])


# -- commands ----------------------------------------------------------------------------------


def test_ping_answers_pong_with_the_injected_time() -> None:
    assert reply(make(), b"ping") == "PONG 2026-11-27T23:22:33.250Z"


@pytest.mark.parametrize("data", [b"PING", b"  Ping\n", b"\tping\r\n", b"ping extra words"])
def test_command_word_is_case_insensitive_and_whitespace_is_ignored(data: bytes) -> None:
    assert reply(make(), data).startswith("PONG ")


def test_time_gives_iso_and_unix_seconds() -> None:
    assert reply(make(), b"time") == "TIME 2026-11-27T23:22:33.250Z 1795821753.250"


def test_other_text_is_echoed_with_a_prefix() -> None:
    assert reply(make(), "héllo wörld 你好\n".encode()) == "ECHO héllo wörld 你好"


def test_help_lists_every_command() -> None:
    text = reply(make(), b"help")
    for word in ("ping", "time", "join", "leave", "broadcast", "stats", "seq"):
        assert word in text
    assert text.startswith("HELP ")


def test_seq_form_prefixes_the_reply_with_its_number() -> None:
    service = make()
    assert reply(service, b"seq 17 ping") == "seq 17 PONG 2026-11-27T23:22:33.250Z"
    assert reply(service, b"SEQ 0018 hello") == "seq 18 ECHO hello"
    assert reply(service, b"seq 3 broadcast") == "seq 3 ERR usage: broadcast TEXT"


@pytest.mark.parametrize(
    "data", [b"seq", b"seq 5", b"seq x ping", b"seq -1 ping", b"seq 18446744073709551616 ping"]
)
def test_bad_seq_is_a_usage_error(data: bytes) -> None:
    service = make()
    assert reply(service, data).startswith("ERR usage: seq N COMMAND")
    assert service.stats.errors["usage"] == 1


def test_seq_longer_than_python_int_parsing_allows_is_an_error_not_a_traceback() -> None:
    """With a raised --max-datagram, 5000 digits passed isdigit() and crashed int() (Python's
    4300-digit limit); leading zeros are still only zeros."""
    service = make(max_datagram=20000)
    assert reply(service, b"seq " + b"9" * 5000 + b" ping").startswith("ERR usage: seq N")
    assert reply(service, b"seq " + b"0" * 5000 + b"7 hi") == "seq 7 ECHO hi"


def test_seq_cannot_nest() -> None:
    assert reply(make(), b"seq 1 seq 2 ping") == "seq 1 ERR usage: seq cannot nest"


def test_largest_seq_is_accepted() -> None:
    top = b"18446744073709551615"
    assert reply(make(), b"seq " + top + b" ping").startswith(f"seq {top.decode()} PONG")


# -- join, leave, broadcast --------------------------------------------------------------------


def test_broadcast_reaches_joined_clients_but_not_the_sender_nor_others() -> None:
    service = make()
    assert reply(service, b"join", A) == "JOINED ttl=60 members=1"
    assert reply(service, b"join", B) == "JOINED ttl=60 members=2"
    out = service.handle(b"broadcast hello all", C, 0.0)
    assert out[0] == (C, b"SENT 2 of 2\n")
    line = b"FROM 127.0.0.1:40003 hello all\n"
    assert sorted(out[1:]) == [(A, line), (B, line)]
    out = service.handle(b"broadcast from a member", A, 0.0)
    assert out == [(A, b"SENT 1 of 1\n"), (B, b"FROM 127.0.0.1:40001 from a member\n")]
    assert service.stats.counts["forwarded"] == 3


def test_leave_removes_the_member() -> None:
    service = make()
    reply(service, b"join", A)
    assert reply(service, b"leave", A) == "LEFT members=0"
    assert service.handle(b"broadcast x", B, 0.0) == [(B, b"SENT 0 of 0\n")]
    assert reply(service, b"leave", A) == "LEFT members=0"  # leaving twice is fine


def test_members_expire_after_ttl_of_silence_and_any_datagram_refreshes() -> None:
    service = make(join_ttl=10)
    reply(service, b"join", A, now=0.0)
    reply(service, b"join", B, now=0.0)
    reply(service, b"hello", A, now=8.0)  # A stays alive, B does not
    out = service.handle(b"broadcast x", C, 12.0)
    assert out == [(C, b"SENT 1 of 1\n"), (A, b"FROM 127.0.0.1:40003 x\n")]
    assert stat(service, "joined") == 1
    service.handle(b"broadcast x", C, 18.0)
    assert stat(service, "joined") == 0


def test_fanout_is_capped_to_the_most_recently_active() -> None:
    service = make(max_fanout=2)
    for i, port in enumerate(range(50000, 50005)):
        reply(service, b"join", (f"10.0.0.{i + 1}", port), now=float(i))
    out = service.handle(b"broadcast x", C, 5.0)
    assert out[0] == (C, b"SENT 2 of 5\n")
    assert [dest for dest, _ in out[1:]] == [("10.0.0.5", 50004), ("10.0.0.4", 50003)]


def test_join_refuses_when_full() -> None:
    service = make(max_members=1)
    reply(service, b"join", A)
    assert reply(service, b"join", B) == "ERR full: 1 members"
    assert reply(service, b"join", A).startswith("JOINED")  # a member may re-join
    assert service.stats.errors["full"] == 1


def test_broadcast_text_with_seq_and_ipv6_sender() -> None:
    service = make()
    reply(service, b"join", A)
    v6 = ("::1", 40010, 0, 0)
    out = service.handle(b"seq 9 broadcast hi there", v6, 0.0)
    assert out == [(v6, b"seq 9 SENT 1 of 1\n"), (A, b"FROM [::1]:40010 hi there\n")]


# -- bad input ---------------------------------------------------------------------------------


def test_invalid_utf8_gets_a_short_error_and_is_counted() -> None:
    service = make()
    assert reply(service, b"\xff\xfe\x00garbage") == "ERR invalid-utf8: datagram dropped"
    assert service.stats.errors["utf8"] == 1
    assert reply(service, b"ping").startswith("PONG")


@pytest.mark.parametrize("data", [b"a\x00b", b"hi\x1b[2J", b"two\nlines", "c1\u0085x".encode()])
def test_control_characters_are_refused(data: bytes) -> None:
    service = make()
    assert reply(service, data) == "ERR control-chars: datagram dropped"
    assert service.stats.errors["control"] == 1


def test_broadcast_never_forwards_control_characters() -> None:
    service = make()
    reply(service, b"join", A)
    out = service.handle(b"broadcast hi\nFROM 1.2.3.4:5 fake", B, 0.0)
    assert out == [(B, b"ERR control-chars: datagram dropped\n")]


@pytest.mark.parametrize("data", [b"", b"   ", b"\n", b"\r\n\t "])
def test_empty_datagrams_are_dropped_silently_and_counted(data: bytes) -> None:
    service = make()
    assert service.handle(data, A, 0.0) == []
    assert service.stats.drops["empty"] == 1


def test_oversized_datagram_gets_an_error_without_its_content() -> None:
    service = make(max_datagram=100)
    assert reply(service, b"x" * 100) == "ECHO " + "x" * 100
    assert reply(service, b"ping" + b" " * 97) == "ERR too-long: max 100 bytes"
    assert service.stats.errors["oversize"] == 1


def test_stats_counts_received_replied_and_every_reason() -> None:
    service = make()
    for data in (b"ping", b"", b"\xff", b"x" * 5000, b"bell\x07"):
        service.handle(data, A, 0.0)
    text = reply(service, b"stats")
    assert text.startswith("STATS received=6 replied=4 forwarded=0 joined=0 ")
    keys = ("err.oversize=1", "err.utf8=1", "err.control=1", "drop.empty=1", "drop.ratelimit=0")
    for key in keys:
        assert key in text.split()


# -- no amplification, rate limits -------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"ping", b"time", b"help", b"stats", b"join", b"leave", b"x", b"broadcast x", b"seq 1 stats",
     b"\xff", b"\x00", b"seq x"],
)
def test_no_reply_exceeds_the_amplification_budget(data: bytes) -> None:
    service = make()
    service.stats.counts["received"] = 10**12  # the largest stats numbers still fit
    for dest, payload in service.handle(data, A, 0.0):
        assert dest == A
        assert len(payload) <= max(service.limits.amp_floor, 4 * len(data)), payload


def test_a_reply_over_budget_becomes_a_short_error_asking_for_padding() -> None:
    service = make(amp_floor=64, amp_factor=2)
    assert reply(service, b"help") == "ERR amplify: pad the request to 60 bytes"
    assert reply(service, b"help" + b" " * 56).startswith("HELP ")
    assert reply(service, b"seq 4 help").startswith("seq 4 ERR amplify: pad the request to ")
    assert service.stats.errors["amplify"] == 2


def test_rate_limit_drops_silently_per_source_ip_and_refills() -> None:
    service = make(rate=10, burst=5)
    answered = sum(bool(service.handle(b"ping", A, 0.0)) for _ in range(8))
    assert answered == 5
    assert service.stats.drops["ratelimit"] == 3
    # Another port of the same IP shares the bucket; another IP does not.
    assert service.handle(b"ping", B, 0.0) == []
    assert reply(service, b"ping", ("127.0.0.2", 1)).startswith("PONG")
    # 0.3 s later three tokens are back.
    assert sum(bool(service.handle(b"ping", A, 0.3)) for _ in range(5)) == 3


def test_broadcast_fanout_is_paid_for_by_the_sender() -> None:
    service = make(rate=1, burst=4)
    for port in range(50000, 50006):
        service.handle(b"join", (f"10.0.0.{port - 49999}", port), 0.0)
    out = service.handle(b"broadcast x", ("10.9.9.9", 1), 0.0)
    assert out[0][1] == b"SENT 3 of 6\n"  # one token for the request, three left for recipients
    assert len(out) == 4
    assert service.stats.drops["ratelimit"] == 3


def test_default_rate_limit_lets_a_burst_of_1000_sequenced_pings_through() -> None:
    service = make()
    replies = [service.handle(f"seq {i} ping".encode(), A, 0.0) for i in range(1000)]
    assert all(r and r[0][1].startswith(f"seq {i} PONG".encode()) for i, r in enumerate(replies))
    assert service.stats.drops["ratelimit"] == 0


def test_rate_zero_disables_limiting() -> None:
    service = make(rate=0, burst=1)
    assert all(service.handle(b"ping", A, 0.0) for _ in range(100))


# -- the helpers alone --------------------------------------------------------------------------


def test_token_buckets_evict_the_least_recently_used_key() -> None:
    buckets = TokenBuckets(rate=1, burst=1, max_keys=2)
    assert buckets.allow("a", 0.0) and not buckets.allow("a", 0.0)
    assert buckets.allow("b", 0.0)
    assert buckets.allow("c", 0.0)  # evicts "a", which comes back with a full bucket
    assert len(buckets) == 2
    assert buckets.allow("a", 0.0)


def test_token_buckets_never_exceed_burst_and_ignore_clock_going_back() -> None:
    buckets = TokenBuckets(rate=100, burst=2, max_keys=10)
    assert buckets.take_up_to("a", 1000.0, 10) == 2
    assert buckets.take_up_to("a", 999.0, 10) == 0


def test_members_recipients_order_and_count() -> None:
    members = Members(ttl=5, max_members=10)
    for i in range(4):
        members.join(i, float(i))
    assert members.recipients(exclude=3, limit=2) == ([2, 1], 3)
    members.touch(0, 4.0)
    assert members.recipients(exclude=None, limit=10) == ([0, 3, 2, 1], 4)
    assert members.expire(7.0) == 2  # 1 and 2 were last seen 6 and 5 s ago
    assert 0 in members and 3 in members


def test_one_host_cannot_hold_more_than_its_share_of_members() -> None:
    """Forged joins of a victim's IP on many ports would make every broadcast hit it many times."""
    service = make()
    victim = "192.0.2.7"
    replies = [service.handle(b"join", (victim, port), 0.0) for port in range(40000, 40010)]
    joined = [r for r in replies if r[0][1].startswith(b"JOINED")]
    assert len(joined) == 4
    assert replies[4][0][1] == b"ERR full: 4 members per host\n"
    out = service.handle(b"broadcast " + b"x" * 1000, ("198.51.100.1", 1), 0.0)
    to_victim = [dest for dest, _ in out if dest[0] == victim]
    assert len(to_victim) == 4
    # a member that leaves frees its host's slot
    service.handle(b"leave", (victim, 40000), 0.0)
    assert service.handle(b"join", (victim, 40009), 0.0)[0][1].startswith(b"JOINED")


def test_members_per_host_slots_come_back_when_members_expire() -> None:
    members = Members(ttl=5, max_members=10, max_per_host=2)
    assert members.join(("h", 1), 0.0) and members.join(("h", 2), 0.0)
    assert not members.join(("h", 3), 1.0)
    assert members.join(("other", 1), 1.0)
    members.expire(6.0)
    assert members.join(("h", 3), 6.0)
