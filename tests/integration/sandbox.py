"""Run a command under a unit's system-call filter and W^X rule, as systemd applies them.

    /usr/bin/python3 sandbox.py UNIT_FILE COMMAND [ARG…]

Reads SystemCallFilter= (groups expanded by `systemd-analyze syscall-filter`; a line starting
with "~" takes its calls away), SystemCallErrorNumber= and MemoryDenyWriteExecute= from the unit,
loads the filter with libseccomp (Debian's python3-seccomp, hence Debian's python3) and sets
PR_SET_MDWE, the kernel's form of MemoryDenyWriteExecute; both hold for every process the command
starts. Then it execs the command. Without systemd as PID 1 this is how a test can prove that the
sandbox still lets maildesk (Python, SQLite, its pipeline child) work.
"""

from __future__ import annotations

import ctypes
import errno
import os
import subprocess
import sys
from pathlib import Path

import seccomp  # type: ignore[import-not-found]

PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1


def _groups() -> dict[str, list[str]]:
    listing = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager"], capture_output=True, text=True,
                             check=True).stdout
    groups: dict[str, list[str]] = {}
    current = ""
    for line in listing.splitlines():
        if line.startswith("@"):
            current = line.strip()
            groups[current] = []
        elif line.strip() and not line.strip().startswith("#") and current:
            groups[current].append(line.strip())
    return groups


def _expand(names: list[str], groups: dict[str, list[str]]) -> set[str]:
    found: set[str] = set()
    for name in names:
        found |= _expand(groups[name], groups) if name.startswith("@") else {name}
    return found


def _settings(unit: Path) -> tuple[set[str], int, bool]:
    groups, allowed, error, mdwe = _groups(), set(), errno.EPERM, False
    for line in unit.read_text().splitlines():
        key, _, value = line.partition("=")
        if key == "SystemCallFilter":
            if value.startswith("~"):
                allowed -= _expand(value[1:].split(), groups)
            else:
                allowed |= _expand(value.split(), groups)
        elif key == "SystemCallErrorNumber":
            error = getattr(errno, value)
        elif key == "MemoryDenyWriteExecute":
            mdwe = value == "yes"
    if not allowed:
        sys.exit(f"{unit}: no SystemCallFilter= allow list")
    return allowed, error, mdwe


def main() -> None:
    allowed, error, mdwe = _settings(Path(sys.argv[1]))
    rules = seccomp.SyscallFilter(defaction=seccomp.ERRNO(error))  # also sets no_new_privs
    for name in sorted(allowed):
        try:
            rules.add_rule(seccomp.ALLOW, name)
        except (RuntimeError, ValueError):  # a call this architecture does not have
            continue
    rules.load()
    if mdwe and ctypes.CDLL(None, use_errno=True).prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        sys.exit(f"PR_SET_MDWE: {os.strerror(ctypes.get_errno())}")
    os.execvp(sys.argv[2], sys.argv[2:])


if __name__ == "__main__":
    main()
