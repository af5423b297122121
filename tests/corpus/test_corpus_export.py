"""Every corpus message, once stored, can be exported byte-identical (issue #7 acceptance): through the
quarantine service for all of them, and through `maildesk quarantine show --raw` for a sample."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

from conftest import corpus_root

from maildesk.admin import quarantine
from maildesk.arrival.intake import accept_raw
from maildesk.domain import Envelope
from maildesk.runtime.wiring import Runtime


def test_corpus_raw_bytes_export_identical(runtime: Runtime) -> None:
    root = corpus_root()
    now = datetime(2026, 11, 20, tzinfo=UTC)
    stored: dict[int, bytes] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != "MANIFEST.tsv"):
        raw = path.read_bytes()
        if not raw.strip() or len(raw) > 10**7:
            continue
        stored[accept_raw(runtime.db, raw, Envelope(None, ("support@example.org",), "corpus"), now, 10**7)
               .inbound_id] = raw
    assert len(stored) > 300
    for inbound_id, raw in stored.items():
        assert quarantine.show(runtime.db, inbound_id)[1] == raw, inbound_id
    config_path = runtime.settings.desk.data_dir.parent / "maildesk.conf"
    for inbound_id in list(stored)[:: max(len(stored) // 4, 1)]:
        out = subprocess.run([sys.executable, "-m", "maildesk", "--config", str(config_path), "quarantine", "show",
                              "--raw", str(inbound_id)], capture_output=True, timeout=60, check=True)
        assert out.stdout == stored[inbound_id]
