"""Every message of the shared corpus goes through the real pipeline without an exception escaping,
and no machine mail (bounce, auto-reply, list) is acknowledged."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime

from conftest import corpus_root, query

from maildesk.arrival.intake import accept_raw
from maildesk.domain import Envelope, InboundState
from maildesk.pipeline.process import process_inbound
from maildesk.runtime.wiring import Runtime

MACHINE_TAGS = {"bounce", "autoreply", "auto-generated", "mailing-list"}


def test_whole_corpus_is_processed(runtime: Runtime) -> None:
    # 386 real-world messages: each ends done, duplicate, ignored or quarantined; raw bytes kept exactly.
    root = corpus_root()
    with open(root / "MANIFEST.tsv", encoding="utf-8") as fh:
        entries = [r for r in csv.DictReader(fh, delimiter="\t") if "expected-result" not in r["tags"]]
    assert len(entries) > 300
    states: Counter[str] = Counter()
    now = datetime(2026, 11, 20, tzinfo=UTC)
    for entry in entries:
        raw = (root / entry["path"]).read_bytes()
        if not raw.strip():
            continue
        accepted = accept_raw(runtime.db, raw, Envelope(None, ("support@example.org",), "corpus"), now, 10**8)
        outcome = process_inbound(runtime.desk, accepted.inbound_id, now)
        assert outcome.state is not None or not accepted.new, entry["path"]
        states[str(outcome.state)] += 1
        tags = set(entry["tags"].split(","))
        if tags & MACHINE_TAGS or any(t.startswith("precedence-") for t in tags):
            kinds = [query(runtime.settings, "select kind from outbox where id = ?", i)[0][0]
                     for i in outcome.outbox_ids]
            assert "ack" not in kinds, f"acknowledged a machine mail: {entry['path']}"
        (stored,) = query(runtime.settings, "select raw from inbound where id = ?", accepted.inbound_id)
        assert stored[0] == raw, f"raw bytes changed for {entry['path']}"
    assert query(runtime.settings, "select count(*) from inbound where state = 'received'") == [(0,)]
    # Quarantine is only for mail no one can be answered about: no address anywhere in its headers.
    reasons = {r[0] for r in query(runtime.settings, "select error from inbound where state = 'quarantined'")}
    assert reasons <= {"no sender: neither a From: address nor an envelope sender"}, reasons
    no_from = sum("no-from" in e["tags"] for e in entries)
    assert states[str(InboundState.QUARANTINED)] <= no_from, states
    print(dict(states))
