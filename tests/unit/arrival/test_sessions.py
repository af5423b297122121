"""The listener's connection accounting: in all, per client address, per client and minute."""

from __future__ import annotations

from maildesk.arrival.smtp import TOO_MANY_FROM_YOU, TOO_MANY_SESSIONS, Sessions


def test_one_client_cannot_take_every_session() -> None:
    # Past 3 from one address it hears 421; another address is served until the global limit.
    sessions = Sessions(limit=5, per_client=3, per_minute=100)
    answers = [sessions.connect("10.0.0.1", True, float(i)) for i in range(4)]
    assert answers == ["", "", "", TOO_MANY_FROM_YOU]
    assert sessions.connect("10.0.0.2", True, 5.0) == ""
    assert sessions.connect("10.0.0.3", True, 6.0) == TOO_MANY_SESSIONS
    sessions.disconnect("10.0.0.1", True)
    sessions.disconnect("10.0.0.3", True)
    assert sessions.connect("10.0.0.2", True, 7.0) == ""


def test_a_client_opening_too_many_connections_a_minute_waits() -> None:
    # 3 a minute: the fourth within the minute is refused, one a minute later is served.
    sessions = Sessions(limit=100, per_client=100, per_minute=3)
    for i in range(3):
        assert sessions.connect("10.0.0.1", True, float(i)) == ""
        sessions.disconnect("10.0.0.1", True)
    assert sessions.connect("10.0.0.1", True, 10.0) == TOO_MANY_FROM_YOU
    sessions.disconnect("10.0.0.1", True)
    assert sessions.connect("10.0.0.1", True, 61.0) == ""


def test_lmtp_peers_count_only_in_all() -> None:
    # Our own MTA over LMTP: no per-client limit, only the global one.
    sessions = Sessions(limit=3, per_client=1, per_minute=1)
    assert [sessions.connect("127.0.0.1", False, 0.0) for _ in range(4)] == ["", "", "", TOO_MANY_SESSIONS]
