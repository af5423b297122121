"""`maildesk doctor`: one line per thing a deploy needs, exit 1 when any of them fails, `--json` alike."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from as_user import maildesk_for, run_as
from conftest import ServeProcess, Sink, free_port, write_config
from dovecot import Dovecot, dovecot_fixture, imap_block  # noqa: F401
from servers import Redis, redis_server  # noqa: F401

RELAY_USER, RELAY_PASSWORD = "desk", "relay-secret"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        RELAY_USER.encode(), RELAY_PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


@contextlib.contextmanager
def _relay() -> Iterator[int]:
    """An SMTP relay on loopback that offers AUTH and knows one user."""
    port = free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port, authenticator=_authenticate,
                            auth_require_tls=False)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def _lines(result: subprocess.CompletedProcess[bytes]) -> dict[str, str]:
    """Each printed check by name: "ok", "WARN" or "FAIL" and its detail."""
    found = {}
    for line in result.stdout.decode().splitlines():
        mark, _, rest = line.partition(" ")
        name, _, detail = rest.strip().partition(": ")
        found[name] = f"{mark} {detail}"
    return found


def test_doctor_passes_a_working_deploy(serve: Callable[..., ServeProcess], redis_server: Redis,  # noqa: F811
                                        dovecot: Dovecot) -> None:
    # Scenario: config, schema, Redis, a relay that takes the login, an IMAP login and the data directory all pass: one line each, exit 0.
    with _relay() as port:
        daemon = serve(f'[broker]\nurl = "{redis_server.new_url()}"\n' + imap_block(dovecot),
                       outbound=f'url = "smtp://127.0.0.1:{port}"\nusername = "{RELAY_USER}"\n'
                                f'password = "{RELAY_PASSWORD}"\n')
        result = daemon.cli("doctor")
        as_json = json.loads(daemon.cli("doctor", "--json").stdout)
    assert result.returncode == 0, result.stdout
    lines = _lines(result)
    assert list(lines) == ["config", "database", "templates", "broker", "outbound", "imap support", "data dir",
                           "private data"]
    assert all(v.startswith("ok ") for v in lines.values()), lines
    assert "answers; 0 messages queued" in lines["broker"]
    assert "answers EHLO" in lines["outbound"] and "AUTH" in lines["outbound"]
    assert lines["outbound"].endswith(f"logged in as {RELAY_USER}")
    assert "writable by" in lines["data dir"] and "GiB free" in lines["data dir"]
    assert as_json["ok"] is True and [c["state"] for c in as_json["checks"]] == ["ok"] * 8


def test_doctor_fails_what_a_deploy_lacks(serve: Callable[..., ServeProcess], tmp_path: Path) -> None:
    # Scenario: no schema, Redis unreachable, a relay refusing the login, data_dir a file: each one FAIL line, exit 1, the same in JSON.
    data = tmp_path / "data"
    with _relay() as port:
        daemon = serve(f'[database]\nurl = "sqlite:///{tmp_path}/desk.sqlite3"\n'
                       f'[broker]\nurl = "redis://:secret@127.0.0.1:{free_port()}/0"\n',
                       outbound=f'url = "smtp://127.0.0.1:{port}"\nusername = "{RELAY_USER}"\npassword = "wrong"\n',
                       data_dir=str(data))
        shutil.rmtree(data)
        data.write_text("")  # a file where the folder should be
        result = daemon.cli("doctor")
        as_json = json.loads(daemon.cli("doctor", "--json").stdout)
    lines = _lines(result)
    assert result.returncode == 1
    assert lines["config"].startswith("ok ")
    assert lines["broker"].startswith("FAIL redis://127.0.0.1:") and "secret" not in lines["broker"]
    assert lines["outbound"].startswith(f"FAIL relay 127.0.0.1:{port} refused the login as {RELAY_USER}: 535")
    assert lines["data dir"] == f"FAIL {data} is not a directory"
    assert as_json["ok"] is False
    assert {c["name"]: c["state"] for c in as_json["checks"]} == {
        "config": "ok", "database": "ok", "templates": "ok", "broker": "fail", "outbound": "fail", "data dir": "fail",
        "private data": "fail"}  # the file where data_dir should be is readable by everyone


def test_doctor_fails_an_old_schema_and_a_relay_that_is_down(serve: Callable[..., ServeProcess],
                                                             tmp_path: Path) -> None:
    # Scenario: a database never initialised and nothing listening where the relay should be: both FAIL with what to do.
    daemon = serve(outbound=f'url = "smtp://127.0.0.1:{free_port()}"\n')
    Path(daemon.settings.database.url.removeprefix("sqlite:///")).unlink()
    result = daemon.cli("doctor")
    lines = _lines(result)
    assert result.returncode == 1
    assert lines["database"].startswith("FAIL schema at nothing, this version needs ")
    assert lines["database"].endswith(": run `maildesk init`")
    assert lines["outbound"].startswith("FAIL relay 127.0.0.1:") and "Connection refused" in lines["outbound"]


def test_doctor_fails_a_config_it_cannot_read(tmp_path: Path, serve: Callable[..., ServeProcess]) -> None:
    # Scenario: a config with an unknown key is one FAIL line (and valid JSON with --json), exit 1.
    daemon = serve()
    daemon.config_path.write_text(daemon.config_path.read_text() + "[desk]\nnonsense = 1\n")
    result = daemon.cli("doctor")
    assert result.returncode == 1 and result.stdout.decode().startswith("FAIL config: ")
    assert len(result.stdout.splitlines()) == 1
    as_json = json.loads(daemon.cli("doctor", "--json").stdout)
    assert as_json["ok"] is False and as_json["checks"][0]["name"] == "config"


def test_doctor_fails_a_data_dir_that_is_nearly_full(tmp_path: Path, serve: Callable[..., ServeProcess]) -> None:
    # Scenario: data_dir on an 8 MB file system: the data dir line FAILs and says how much is free.
    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        message = f"cannot mount a small tmpfs here: {made.stderr.decode().strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but " + message)
        pytest.skip(message)
    try:
        daemon = serve(data_dir=str(mount / "data"))
        result = daemon.cli("doctor")
    finally:
        subprocess.run(["umount", str(mount)], check=True)
    line = _lines(result)["data dir"]
    assert result.returncode == 1
    assert line.startswith(f"FAIL {mount / 'data'}: only 0.0 GiB free of 0.0 GiB"), line


def test_doctor_run_as_the_service_user_fails_a_data_dir_it_cannot_write() -> None:
    # Scenario: data_dir belongs to root (0755) and doctor runs as the unprivileged user: the data dir line FAILs naming both.
    home = Path(tempfile.mkdtemp(prefix="maildesk-doctor-"))
    try:
        home.chmod(0o755)
        command = maildesk_for("mail", home)
        config = write_config(home, data_dir=str(home / "data"))
        (home / "data").mkdir(mode=0o755)
        result = run_as("mail", command, "--config", str(config), "doctor")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    assert result.returncode == 1
    assert _lines(result)["data dir"] == f"FAIL {home / 'data'} (mode 0755, owner root) is not writable by mail"
