"""Tickets and raw mail stay private whatever the umask maildesk is started with: `init` and `serve`
under umask 000 leave nothing readable by other users, and `doctor` says when something is."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from conftest import ServeProcess, mail, outbox_files, send_smtp, wait_for, write_config


def _umask_000() -> None:
    os.umask(0)


def _run(path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "maildesk", "--config", str(path), *args],
                          capture_output=True, timeout=120, preexec_fn=_umask_000)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_and_serve_under_umask_000_keep_everything_private(tmp_path: Path) -> None:
    # umask 000: data_dir 0750, the database with its WAL/SHM 0640, blobs and the outbox closed to others.
    path = write_config(tmp_path)
    assert _run(path, "init").returncode == 0
    daemon = ServeProcess(path)
    data_dir, database = daemon.settings.desk.data_dir, daemon.settings.desk.data_dir / "maildesk.sqlite3"
    assert (_mode(data_dir), _mode(database)) == (0o750, 0o640)
    with open(daemon.log, "ab") as log:
        daemon.proc = subprocess.Popen([sys.executable, "-m", "maildesk", "--config", str(path), "serve"],
                                       stdout=log, stderr=subprocess.STDOUT, preexec_fn=_umask_000)
    try:
        wait_for(daemon._listening, 30, "serve to listen")
        send_smtp(daemon, mail("Bob <bob@client.example>", "support@example.org", "Invoice", "attached",
                               pdf=b"%PDF-1.4 not really"))
        wait_for(lambda: len(outbox_files(daemon.settings)) == 1, 10, "the acknowledgement")
        assert _mode(database.with_name("maildesk.sqlite3-wal")) == 0o640
        assert _mode(database.with_name("maildesk.sqlite3-shm")) == 0o640
    finally:
        assert daemon.stop() == 0
    blobs = list((data_dir / "blobs").rglob("*"))
    assert [p for p in blobs if p.is_file()], "the attachment was not stored as a blob"
    assert {_mode(p) for p in blobs if p.is_dir()} == {0o750}
    assert all(_mode(p) & 0o037 == 0 for p in blobs if p.is_file())  # 0600 or 0640
    outbox = data_dir / "outbox"
    assert {_mode(outbox / sub) for sub in ("", "tmp", "new", "cur")} == {0o750}
    assert {_mode(p) for p in (outbox / "new").iterdir()} == {0o640}
    assert any(line.startswith(b"ok   private data:") for line in _run(path, "doctor").stdout.splitlines())


def test_doctor_fails_on_data_others_can_read_and_init_closes_it(tmp_path: Path) -> None:
    # An older install left the database 0644 and data_dir 0755: doctor says FAIL naming both; init fixes them.
    path = write_config(tmp_path)
    assert _run(path, "init").returncode == 0
    data_dir = Path(ServeProcess(path).settings.desk.data_dir)
    database = data_dir / "maildesk.sqlite3"
    database.chmod(0o644)
    data_dir.chmod(0o755)
    doctor = _run(path, "doctor")
    assert doctor.returncode == 1
    failed = [line for line in doctor.stdout.decode().splitlines() if line.startswith("FAIL")]
    assert failed == [f"FAIL private data: open to other users: {data_dir} (drwxr-xr-x), {database} (-rw-r--r--); "
                      "`maildesk init` takes their access away"]
    again = _run(path, "init")
    assert again.returncode == 0
    assert again.stdout.decode().splitlines()[-1] == f"closed to other users: {data_dir}, {database}"
    assert (_mode(data_dir), _mode(database)) == (0o750, 0o640)
    assert _run(path, "doctor").returncode == 0
