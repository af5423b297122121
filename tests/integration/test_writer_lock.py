"""SQLite's writers take turns on one lock across processes (serve, its pipeline process, the CLI)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from maildesk.store.db import WriterLock

CHILD = """
import sys, time
from maildesk.store.db import WriterLock
with WriterLock(sys.argv[1]):
    print(time.time(), flush=True)
"""


def test_a_writer_in_another_process_waits_for_the_lock_holder(tmp_path: Path) -> None:
    database = str(tmp_path / "maildesk.sqlite3")
    with WriterLock(database):
        child = subprocess.Popen([sys.executable, "-c", CHILD, database], stdout=subprocess.PIPE, text=True)
        time.sleep(1.0)
        assert child.poll() is None, "the other process got the lock while this one held it"
        released = time.time()
    out, _ = child.communicate(timeout=10)
    assert child.returncode == 0
    assert float(out.strip()) >= released
    assert Path(database + "-writer.lock").exists()


def test_the_lock_is_free_again_after_its_holder_is_killed(tmp_path: Path) -> None:
    database = str(tmp_path / "maildesk.sqlite3")
    holder = subprocess.Popen([sys.executable, "-c",
                               "import sys, time\nfrom maildesk.store.db import WriterLock\n"
                               "with WriterLock(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(60)\n",
                               database], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait(10)
    started = time.monotonic()
    with WriterLock(database):
        pass
    assert time.monotonic() - started < 5
