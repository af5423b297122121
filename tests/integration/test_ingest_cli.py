"""`maildesk ingest` for MTA pipe delivery: exit codes that make Postfix keep or bounce the mail, storing
the mail itself or handing it to a running daemon."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from conftest import ServeProcess, make_mail, outbox_files, query, wait_for, write_config
from test_cli_start import HEAVY, importtime, loaded

from maildesk import config


def _ingest(config_path: Path, stdin: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "maildesk", "--config", str(config_path), "ingest", *args],
                          input=stdin, capture_output=True, timeout=60)


def _ready(tmp_path: Path, smtp: str = "") -> Path:
    path = write_config(tmp_path, smtp=smtp)
    init = subprocess.run([sys.executable, "-m", "maildesk", "--config", str(path), "init"],
                          capture_output=True, timeout=60)
    assert init.returncode == 0, init.stderr
    return path


def test_stored_and_processed_exit_0(tmp_path: Path) -> None:
    # A good message is stored (exit 0, not a word printed: the MTA would pass it on) and acknowledged.
    path = _ready(tmp_path)
    result = _ingest(path, make_mail(), "-f", "bob@client.example", "-r", "support@example.org")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"" and result.stderr == b""
    settings = config.load(path)
    assert query(settings, "select source, mail_from, state from inbound") == [("pipe", "bob@client.example",
                                                                                "done")]
    assert len(outbox_files(settings)) == 1


def test_duplicate_delivery_exit_0_and_nothing_new(tmp_path: Path) -> None:
    # The MTA delivering the same bytes twice gets 0 both times and one ticket exists.
    path = _ready(tmp_path)
    raw = make_mail()
    assert _ingest(path, raw).returncode == 0
    second = _ingest(path, raw)
    assert second.returncode == 0 and second.stdout == second.stderr == b""
    assert query(config.load(path), "select count(*) from tickets") == [(1,)]


def test_empty_input_exit_65(tmp_path: Path) -> None:
    # Nothing on stdin is refused for good, with a message.
    path = _ready(tmp_path)
    result = _ingest(path, b"")
    assert result.returncode == 65 and b"empty message" in result.stderr


def test_oversized_exit_65(tmp_path: Path) -> None:
    # A message over the configured limit is refused for good (the MTA bounces it to the sender).
    path = _ready(tmp_path, smtp="max_message_size = 1000\n")
    result = _ingest(path, make_mail(body="y" * 2000))
    assert result.returncode == 65 and b"over the limit" in result.stderr


def test_bad_config_exit_75_names_the_key(tmp_path: Path) -> None:
    # A broken config is a temporary failure for the MTA (mail stays queued): one line naming each fault.
    path = _ready(tmp_path)
    path.write_text(path.read_text() + "\n[desk2]\n[desk3]\n")
    result = _ingest(path, make_mail())
    assert result.returncode == 75 and result.stdout == b""
    assert len(result.stderr.splitlines()) == 1
    assert b"unknown section [desk2]" in result.stderr and b"unknown section [desk3]" in result.stderr


def test_database_not_initialised_exit_75(tmp_path: Path) -> None:
    # Before `maildesk init`, mail is deferred, not lost, and the message says what to run.
    path = write_config(tmp_path)
    result = _ingest(path, make_mail())
    assert result.returncode == 75 and b"maildesk init" in result.stderr


def test_database_unreachable_exit_75(tmp_path: Path) -> None:
    # A database that cannot be opened is a temporary failure.
    path = _ready(tmp_path)
    text = path.read_text().replace("[smtp]", '[database]\nurl = "sqlite:////dev/null/nowhere/x.db"\n[smtp]')
    path.write_text(text)
    result = _ingest(path, make_mail())
    assert result.returncode == 75, result.stderr


def test_handed_to_the_running_daemon_committed_before_exit_0(serve: Callable[..., ServeProcess]) -> None:
    # With `maildesk serve` running, ingest hands the mail over its local socket: exit 0 and silence once
    # the row is committed (it is there the moment the process ends), no SQLAlchemy or pydantic loaded in
    # the MTA's process, and the daemon processes it.
    daemon = serve().start()
    try:
        raw = make_mail()
        seconds, modules, result = importtime("-m", "maildesk", "--config", str(daemon.config_path), "ingest",
                                              "-f", "bob@client.example", "-r", "support@example.org", stdin=raw)
        print(f"maildesk ingest (daemon running): {seconds:.3f} s of imports")
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
        assert query(daemon.settings, "select source, mail_from, rcpt_to from inbound") == [
            ("pipe", "bob@client.example", '["support@example.org"]')]
        assert loaded(modules, (*HEAVY, "click", "maildesk.cli.app", "logging")) == []
        wait_for(lambda: len(outbox_files(daemon.settings)) == 1, 20, "the acknowledgement")
        assert query(daemon.settings, "select state from inbound") == [("done",)]
        again = _ingest(daemon.config_path, raw)
        assert (again.returncode, again.stdout, again.stderr) == (0, b"", b"")
        assert query(daemon.settings, "select count(*) from inbound") == [(1,)]
        assert "via pipe" in daemon.log.read_text()
    finally:
        assert daemon.stop() == 0


def test_the_daemon_refuses_what_ingest_would_with_the_same_status(serve: Callable[..., ServeProcess]) -> None:
    # Through the daemon, an empty mail and one over the limit are refused for good (65) with the same line.
    daemon = serve(smtp="max_message_size = 1000\n").start()
    try:
        empty = _ingest(daemon.config_path, b"")
        assert empty.returncode == 65 and empty.stderr == b"maildesk: empty message\n"
        big = _ingest(daemon.config_path, make_mail(body="y" * 200_000))
        assert big.returncode == 65 and b"over the limit of 1000" in big.stderr
        assert query(daemon.settings, "select count(*) from inbound") == [(0,)]
    finally:
        assert daemon.stop() == 0


def test_a_socket_left_by_a_killed_daemon_sends_ingest_down_its_own_path(serve: Callable[..., ServeProcess]) -> None:
    # A daemon killed with SIGKILL leaves its socket file: ingest finds nobody behind it, stores and
    # processes the mail itself (exit 0); the next daemon replaces the stale file and takes mail again.
    daemon = serve().start()
    daemon.kill()
    assert (daemon.settings.desk.data_dir / "maildesk.sock").exists()
    alone = _ingest(daemon.config_path, make_mail(message_id="one"))
    assert (alone.returncode, alone.stderr) == (0, b"")
    assert query(daemon.settings, "select state from inbound") == [("done",)]
    daemon.start()
    try:
        handed = _ingest(daemon.config_path, make_mail(message_id="two"))
        assert handed.returncode == 0
        wait_for(lambda: query(daemon.settings, "select count(*) from tickets") == [(2,)], 20, "the second ticket")
    finally:
        assert daemon.stop() == 0


def test_the_forms_an_mta_uses_reach_the_daemon_before_click(serve: Callable[..., ServeProcess]) -> None:
    # Every spelling click accepts for --config, -f and -r hands the mail over without loading click, with
    # the envelope as given; an empty sender (a bounce) stays empty.
    daemon = serve().start()
    conf = str(daemon.config_path)
    try:
        for i, args in enumerate([("--config", conf, "ingest", "-f", "a@client.example", "-r", "support@example.org"),
                                  (f"--config={conf}", "ingest", "--sender=b@client.example",
                                   "--recipient", "support@example.org", "-rsales@example.org"),
                                  ("--config", conf, "ingest", "-fc@client.example"),
                                  ("--config", conf, "ingest", "-f", "")]):
            _, modules, result = importtime("-m", "maildesk", *args, stdin=make_mail(message_id=f"form{i}"))
            assert (result.returncode, result.stderr) == (0, ""), args
            assert loaded(modules, ("click", "maildesk.cli.app")) == [], args
        assert query(daemon.settings, "select mail_from, rcpt_to from inbound order by id") == [
            ("a@client.example", '["support@example.org"]'),
            ("b@client.example", '["support@example.org", "sales@example.org"]'),
            ("c@client.example", "[]"), ("", "[]")]
    finally:
        assert daemon.stop() == 0


def test_a_command_line_the_fast_path_does_not_know_goes_through_click(serve: Callable[..., ServeProcess]) -> None:
    # `ingest --help` and an unknown option are click's (help; one line and exit 2), and nothing is stored.
    daemon = serve().start()
    try:
        shown = _ingest(daemon.config_path, make_mail(), "--help")
        assert shown.returncode == 0 and b"Store one message from stdin" in shown.stdout
        wrong = _ingest(daemon.config_path, make_mail(), "--sendr", "x@client.example")
        assert wrong.returncode == 2 and wrong.stderr.count(b"\n") == 1 and b"--sendr" in wrong.stderr
        assert query(daemon.settings, "select count(*) from inbound") == [(0,)]
    finally:
        assert daemon.stop() == 0


def test_mail_read_before_the_daemon_declined_is_stored_by_the_command(serve: Callable[..., ServeProcess],
                                                                        tmp_path: Path) -> None:
    # A second config file for the same data directory: the daemon (started with the first) declines, so
    # the command stores and processes the mail itself, the bytes the fast path read from stdin intact.
    daemon = serve().start()
    other = tmp_path / "other.conf"  # beside the first: the same data directory, the same socket
    other.write_text(daemon.config_path.read_text())
    try:
        raw = make_mail(message_id="declined")
        result = _ingest(other, raw, "-f", "bob@client.example")
        assert (result.returncode, result.stderr) == (0, b"")
        assert [bytes(r) for (r,) in query(daemon.settings, "select raw from inbound")] == [raw]
        assert "via pipe" not in daemon.log.read_text()
    finally:
        assert daemon.stop() == 0
