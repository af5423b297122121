"""Coverage-guided fuzzing of the real pipeline on SQLite with atheris.

    python tests/fuzz/atheris_pipeline.py -max_total_time=600 [corpus_dir]

Each input is stored through the real intake and processed; the target fails (and atheris reports the
input) when an exception escapes, the row stays unprocessed, or the stored bytes differ from the input.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["maildesk"]):
    from maildesk import config
    from maildesk.arrival.intake import accept_raw
    from maildesk.domain import Envelope
    from maildesk.errors import MessageRejected
    from maildesk.pipeline.process import process_inbound
    from maildesk.runtime.wiring import Runtime
    from maildesk.store import migrate
    from maildesk.store.db import Database
    from maildesk.store.inbound import one as inbound_row

NOW = datetime(2026, 11, 20, tzinfo=UTC)
logging.disable(logging.CRITICAL)


def _runtime() -> Runtime:
    root = Path(os.environ.get("MAILDESK_FUZZ_DIR") or tempfile.mkdtemp(prefix="maildesk-fuzz-"))
    path = root / "maildesk.conf"
    path.write_text('[desk]\naddress = "support@example.org"\n[smtp]\nlisten = "127.0.0.1:2525"\n', encoding="utf-8")
    os.chdir(root)
    settings = config.load(path)
    migrate.upgrade(Database(settings.database.url))
    return Runtime.build(settings)


RT = _runtime()
COUNT = [0]


def target(data: bytes) -> None:
    COUNT[0] += 1
    try:
        accepted = accept_raw(RT.db, data, Envelope("fuzz@client.example", ("support@example.org",), "fuzz"),
                              NOW, 10**7)
    except MessageRejected:
        return
    process_inbound(RT.desk, accepted.inbound_id, NOW + timedelta(seconds=COUNT[0]))
    with RT.db.reading() as session:
        found = inbound_row(session, accepted.inbound_id)
    assert found is not None and found[1] == data, "raw bytes lost or changed"
    assert found[0].state != "received", "left unprocessed"


def main() -> None:
    # libFuzzer writes new inputs into the first corpus directory only: a scratch one, never the shared
    # corpus, which is read as seeds ($MAILDESK_FUZZ_SEEDS, else ../shared/corpus).
    work = Path(tempfile.mkdtemp(prefix="corpus-", dir=os.environ.get("MAILDESK_FUZZ_DIR")))
    seeds = Path(os.environ.get("MAILDESK_FUZZ_SEEDS") or Path(__file__).resolve().parents[2].parent / "shared"
                 / "corpus")
    given = [a for a in sys.argv[1:] if not a.startswith("-")]
    args = sys.argv if given else [*sys.argv, str(work), *([str(seeds)] if seeds.is_dir() else [])]
    atheris.Setup(args, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
