"""The systemd units in deploy/ as systemd would read them: `systemd-analyze verify` finds nothing to
say, and `systemd-analyze security --offline=yes` scores each service at most 2.5."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from servers import require

DEPLOY = REPO / "deploy"
INSTALLED = "/opt/maildesk/.venv/bin/maildesk"
SERVICES = sorted(p.name for p in DEPLOY.glob("*.service"))
UNITS = SERVICES + sorted(p.name for p in DEPLOY.glob("*.timer"))
MAX_EXPOSURE = 2.5


@pytest.fixture(scope="module")
def units(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The units, with ExecStart naming this checkout's `maildesk` (verify checks that it exists)."""
    here = tmp_path_factory.mktemp("units")
    for name in UNITS:
        text = (DEPLOY / name).read_text()
        (here / name).write_text(text.replace(INSTALLED, str(Path(sys.executable).parent / "maildesk")))
    return here


def test_every_service_runs_the_installed_maildesk() -> None:
    # The path the test replaces is the one each service starts (else verify would check nothing).
    assert SERVICES == ["maildesk-front.service", "maildesk-serve.service", "maildesk-sweep.service",
                        "maildesk-worker@.service"]
    for name in SERVICES:
        assert f"ExecStart={INSTALLED} --config /etc/maildesk/maildesk.conf " in (DEPLOY / name).read_text()


@pytest.mark.parametrize("name", UNITS)
def test_systemd_analyze_verify_has_nothing_to_say(units: Path, name: str) -> None:
    # An unknown key or a bad value is only a warning for systemd: any output at all fails.
    result = subprocess.run([require("systemd-analyze", "systemd-analyze (Debian package systemd)"), "verify",
                             str(units / name)], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@pytest.mark.parametrize("name", SERVICES)
def test_exposure_is_at_most_2_5(units: Path, name: str) -> None:
    # `systemd-analyze security` rates the sandbox from 0 (locked down) to 10 (exposed).
    result = subprocess.run([require("systemd-analyze", "systemd-analyze (Debian package systemd)"), "security",
                             "--offline=yes", "--no-pager", str(units / name)],
                            capture_output=True, text=True, timeout=60)
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert found is not None, result.stdout + result.stderr
    assert float(found.group(1)) <= MAX_EXPOSURE, result.stdout
