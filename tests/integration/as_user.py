"""Run `maildesk` as another (unprivileged) user, as Postfix's pipe or a service's user does.

The interpreter of this test run may live where other users cannot look (a pyenv under /root,
mode 0700). Then Debian's own python3 of the same version runs maildesk, with this checkout and the
run's site-packages on its path.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import REPO


def maildesk_for(user: str, folder: Path) -> Path:
    """A `maildesk` command (a script in `folder`) that `user` can run; skips (fails under CI) when
    we may not switch users."""
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but the tests do not run as root")
        pytest.skip(f"running maildesk as {user} needs root")
    paths = os.pathsep.join([str(REPO), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    candidates = [(sys.executable, ""), (f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}", paths)]
    for python, path in candidates:
        tried = subprocess.run(["runuser", "-u", user, "--", "env", f"PYTHONPATH={path}", python, "-c",
                                "import maildesk.cli"], capture_output=True, timeout=60)
        if tried.returncode == 0:
            script = folder / "maildesk"
            script.write_text(f'#!/bin/sh\nPYTHONPATH={path} exec {python} -m maildesk "$@"\n')
            script.chmod(0o755)
            return script
    raise AssertionError(f"no Python that user {user} may run imports maildesk: {candidates}")


def run_as(user: str, command: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """`command args…` as `user`."""
    return subprocess.run(["runuser", "-u", user, "--", str(command), *args], capture_output=True, timeout=120)
