"""SQLite's writers take turns on one lock across processes (serve, its pipeline process, the CLI)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from maildesk.store.db import WriterLock

TAKE_ONCE = """
import sys, time
from maildesk.store.db import WriterLock
with WriterLock(sys.argv[1]).held(priority=sys.argv[2] == "priority"):
    print(time.time(), flush=True)
"""
# A writer that takes the lock again the moment it lets go, as a busy pipeline process does.
GREEDY = """
import sys, time
from maildesk.store.db import WriterLock
lock = WriterLock(sys.argv[1])
print("started", flush=True)
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    with lock.held():
        time.sleep(0.05)
"""


def _python(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)


def test_a_writer_in_another_process_waits_for_the_lock_holder(tmp_path: Path) -> None:
    database = str(tmp_path / "maildesk.sqlite3")
    with WriterLock(database).held():
        child = _python(TAKE_ONCE, database, "normal")
        time.sleep(1.0)
        assert child.poll() is None, "the other process got the lock while this one held it"
        released = time.time()
    out, _ = child.communicate(timeout=10)
    assert child.returncode == 0
    assert float(out.strip()) >= released
    assert Path(database + "-writer.lock").exists()


def test_a_priority_writer_gets_its_turn_from_a_writer_that_never_stops_asking(tmp_path: Path) -> None:
    # The intake's durable commit against a pipeline process that commits back to back.
    database = str(tmp_path / "maildesk.sqlite3")
    greedy = _python(GREEDY, database, "4")
    assert greedy.stdout is not None and greedy.stdout.readline().strip() == "started"
    time.sleep(0.5)
    waits = []
    for _ in range(5):
        started = time.monotonic()
        with WriterLock(database).held(priority=True):
            waits.append(time.monotonic() - started)
        time.sleep(0.1)
    greedy.wait(10)
    assert max(waits) < 0.5, waits  # at most about one 50 ms turn of the other writer, never starved


def test_the_lock_is_free_again_after_its_holder_is_killed(tmp_path: Path) -> None:
    database = str(tmp_path / "maildesk.sqlite3")
    holder = _python("import sys, time\nfrom maildesk.store.db import WriterLock\n"
                     "with WriterLock(sys.argv[1]).held():\n    print('held', flush=True)\n    time.sleep(60)\n",
                     database)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait(10)
    started = time.monotonic()
    with WriterLock(database).held(priority=True):
        pass
    assert time.monotonic() - started < 5
