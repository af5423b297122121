"""The brakes on answers to inbound mail, and what an acknowledgement may carry."""

from __future__ import annotations

from maildesk.domain import AnswerCounts
from maildesk.policy.acks import AckMode, SenderProof, decide_ack
from maildesk.policy.brakes import BrakeLimits, decide_answer, is_answer_kind

LIMITS = BrakeLimits()


def test_answers_stop_per_domain_client_and_fingerprint() -> None:
    # Under every limit: send; at the domain, client or fingerprint limit: hold, saying which.
    assert decide_answer("ack", "a@x.example", AnswerCounts(99, 99, 4), LIMITS).send
    assert "to x.example" in decide_answer("ack", "a@x.example", AnswerCounts(100, 0, 0), LIMITS).reason
    assert "client" in decide_answer("ack", "a@x.example", AnswerCounts(0, 100, 0), LIMITS).reason
    assert "fingerprint" in decide_answer("ack", "a@x.example", AnswerCounts(0, 0, 5), LIMITS).reason
    assert is_answer_kind("ack") and is_answer_kind("status_list") and not is_answer_kind("reminder")


def test_unverified_senders_get_a_neutral_acknowledgement_or_none() -> None:
    # Aligned or vouched: the full one; neither: neutral (default) or held, with the reason.
    assert decide_ack(SenderProof("client.example", "client.example", True, ""), "neutral").mode is AckMode.FULL
    assert decide_ack(SenderProof("client.example", "evil.example", False, "dkim"), "hold").mode is AckMode.FULL
    neutral = decide_ack(SenderProof("victim.example", "evil.example", False, ""), "neutral")
    assert neutral.mode is AckMode.NEUTRAL and "victim.example" in neutral.reason
    assert decide_ack(SenderProof("victim.example", "", False, ""), "hold").mode is AckMode.HOLD
