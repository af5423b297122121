"""Where the config file is, and the two keys a command may read from it before (or instead of)
validating it: `[desk] data_dir`, where a running `maildesk serve` keeps its local socket, and
`[log] level`.

Validating the file takes pydantic, about 0.1 s of imports. `maildesk ingest` handing a mail to a
running daemon, and the ticket reads the daemon answers, need only to find the daemon: the daemon
itself validated the same file when it started, and anything this module cannot read sends the
command down its ordinary path, which validates the file and names every fault. The defaults are
declared here and used by model.py, so they cannot disagree.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "MAILDESK_CONFIG"
DEFAULT_FILE = "maildesk.conf"
#: `[desk] data_dir` when the file does not set it, relative to the file's directory.
DEFAULT_DATA_DIR = "var"
#: `[log] level` when the file does not set it.
DEFAULT_LOG_LEVEL = "INFO"


def config_path(explicit: str | None, environ: Mapping[str, str]) -> Path:
    """The config file to read: the option, then $MAILDESK_CONFIG, then ./maildesk.conf."""
    return Path(explicit or environ.get(ENV_VAR) or DEFAULT_FILE)


@dataclass(frozen=True)
class Peeked:
    """The config file (resolved) and what it says of the data directory and the log level."""

    path: Path
    data_dir: Path
    log_level: str


def peek(path: Path) -> Peeked | None:
    """`[desk] data_dir` and `[log] level` of the file at `path`, resolved as the loader resolves them;
    None when the file cannot be read, is not TOML, or holds something else than strings there."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    desk, log = data.get("desk", {}), data.get("log", {})
    if not isinstance(desk, dict) or not isinstance(log, dict):
        return None
    data_dir, level = desk.get("data_dir", DEFAULT_DATA_DIR), log.get("level", DEFAULT_LOG_LEVEL)
    if not isinstance(data_dir, str) or not isinstance(level, str):
        return None
    resolved = path.resolve()
    return Peeked(resolved, (resolved.parent / data_dir).resolve(), level.upper())
