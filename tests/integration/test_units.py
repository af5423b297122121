"""The systemd units in deploy/ as systemd would read them: `systemd-analyze verify` finds nothing to
say, `systemd-analyze security --offline=yes` scores each service at most 2.5, and `maildesk serve`
still works inside the system-call filter and W^X rule its unit sets (sandbox.py)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from conftest import REPO, ServeProcess, mail, outbox_files, send_smtp, wait_for
from servers import require

DEPLOY = REPO / "deploy"
INSTALLED = "/opt/maildesk/.venv/bin/maildesk"
SERVICES = sorted(p.name for p in DEPLOY.glob("*.service"))
UNITS = SERVICES + sorted(p.name for p in DEPLOY.glob("*.timer"))
MAX_EXPOSURE = 2.5
#: Debian's python3, the one python3-seccomp is built for.
DEBIAN_PYTHON = "/usr/bin/python3"


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


def _sandbox() -> list[str]:
    """The command that runs another under a unit's sandbox (skipped, or failed under CI, without it)."""
    require("systemd-analyze", "systemd-analyze (Debian package systemd)")
    python = require(DEBIAN_PYTHON, "Debian's python3")
    if subprocess.run([python, "-c", "import seccomp"], capture_output=True).returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but python3-seccomp is not installed (.ci/run installs it)")
        pytest.skip("python3-seccomp is not installed (apt-get install python3-seccomp)")
    return [python, str(Path(__file__).with_name("sandbox.py"))]


def test_serve_works_inside_its_units_syscall_filter_and_wx_rule(serve: Callable[..., ServeProcess]) -> None:
    # Under maildesk-serve.service's SystemCallFilter (EPERM outside it) and MemoryDenyWriteExecute, serve
    # and its pipeline child store a mail with an attachment, acknowledge it, reload on SIGHUP and stop.
    daemon = serve()
    with open(daemon.log, "ab") as log:
        daemon.proc = subprocess.Popen([*_sandbox(), str(DEPLOY / "maildesk-serve.service"), sys.executable, "-m",
                                        "maildesk", "--config", str(daemon.config_path), "serve"],
                                       stdout=log, stderr=subprocess.STDOUT)
    wait_for(daemon._listening, 30, "serve to listen inside the sandbox")
    status = Path(f"/proc/{daemon.proc.pid}/status").read_text()
    assert "Seccomp:\t2" in status and "NoNewPrivs:\t1" in status
    send_smtp(daemon, mail("Bob <bob@client.example>", "support@example.org", "Invoice", "attached",
                           pdf=b"%PDF-1.4 not really"))
    wait_for(lambda: len(outbox_files(daemon.settings)) == 1, 15, "the acknowledgement")
    ack = message_from_bytes(outbox_files(daemon.settings)[0], policy=policy.default)
    assert ack["Subject"] == "[#1] Invoice"
    daemon.proc.send_signal(signal.SIGHUP)
    # Reloaded in serve and in its pipeline process: two log lines.
    wait_for(lambda: daemon.log.read_bytes().count(b"configuration reloaded") == 2, 30, "the reload")
    assert daemon.stop() == 0
    assert b"Operation not permitted" not in daemon.log.read_bytes()
