"""Tickets and raw mail are private: only maildesk's user and its group may read them.

Every `maildesk` command runs with umask 027 whatever it inherited (a shell's 000, an MTA's 022),
so what it creates — the SQLite file and its -wal/-shm (SQLite gives them the database's mode),
blobs, the Maildir outbox — is at most 0640 for files and 0750 for folders. `init` makes the data
directory 0750 and takes "others" off whatever an earlier version left readable; `doctor` says
when anything listed here is still open to others.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from maildesk.config import Settings

UMASK = 0o027
DATA_DIR_MODE = 0o750


def private_paths(settings: Settings) -> list[Path]:
    """The data directory, the SQLite file with its -wal and -shm, the blobs folder and the Maildir
    outbox with its subfolders: those of them that exist."""
    # Here, not at the top: every command sets UMASK from this module, few need the store.
    from maildesk.store.db import sqlite_file

    paths = [settings.desk.data_dir, settings.desk.data_dir / "blobs"]
    database = sqlite_file(settings.database.url)
    if database is not None:
        paths += [database, *(database.with_name(database.name + suffix) for suffix in ("-wal", "-shm"))]
    if settings.outbound.url.startswith("maildir:"):
        outbox = Path(settings.outbound.url.removeprefix("maildir:"))
        paths += [outbox, *(outbox / sub for sub in ("tmp", "new", "cur"))]
    return [p for p in dict.fromkeys(paths) if p.exists()]


def open_to_others(settings: Settings) -> list[tuple[Path, int]]:
    """The private paths that others may read, write or enter, with their modes."""
    found = [(p, p.stat().st_mode) for p in private_paths(settings)]
    return [(p, mode) for p, mode in found if mode & 0o007]


def make_private(settings: Settings) -> list[Path]:
    """Create the data directory 0750 if it is missing, and take every permission of "others" and
    the group's write off the private paths that exist; the paths that changed."""
    data_dir = settings.desk.data_dir
    if not data_dir.exists():
        data_dir.mkdir(mode=DATA_DIR_MODE, parents=True)
        data_dir.chmod(DATA_DIR_MODE)  # mkdir's mode passes through the umask
    changed = []
    for path in private_paths(settings):
        mode = stat.S_IMODE(path.stat().st_mode)
        wanted = mode & ~UMASK
        if mode != wanted:
            os.chmod(path, wanted)
            changed.append(path)
    return changed
