"""Log lines for journald, syslog and an MTA: one line per event, priorities journald understands."""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from maildesk.serve.logs import OneLine, configure_logging, configure_mta_logging, fold, journal_stream


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level, hook = root.handlers[:], root.level, threading.excepthook
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    threading.excepthook = hook
    logging.captureWarnings(False)


def _record(level: int, message: str, with_traceback: bool = False) -> logging.LogRecord:
    exc_info = None
    if with_traceback:
        try:
            raise ValueError("line one\nline two")
        except ValueError:
            exc_info = sys.exc_info()
    return logging.LogRecord("maildesk.test", level, __file__, 1, message, (), exc_info)


def test_a_traceback_is_folded_into_the_one_line_of_its_record() -> None:
    # Scenario: log.exception's traceback and a message with newlines stay one record, readable.
    line = OneLine("%(levelname)s %(name)s: %(message)s").format(_record(logging.ERROR, "sweep\nfailed", True))
    assert "\n" not in line
    assert line.startswith("ERROR maildesk.test: sweep | failed | Traceback (most recent call last): | File ")
    assert line.endswith("ValueError: line one | line two")


@pytest.mark.parametrize(("level", "prefix"), [(logging.DEBUG, "<7>"), (logging.INFO, "<6>"),
                                                (logging.WARNING, "<4>"), (logging.ERROR, "<3>"),
                                                (logging.CRITICAL, "<2>")])
def test_for_the_journal_a_line_starts_with_its_priority(level: int, prefix: str) -> None:
    # Scenario: journald reads <N> as the priority (`journalctl -p err`), and stamps the time itself.
    line = OneLine("%(name)s: %(message)s", journal=True).format(_record(level, "hello"))
    assert line == f"{prefix}maildesk.test: hello"


def test_journal_stream_must_name_our_own_stderr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Scenario: $JOURNAL_STREAM counts only when its device:inode is the stream's; inherited, it is not.
    with open(tmp_path / "journal", "w") as ours, open(tmp_path / "elsewhere", "w") as other:
        info = os.fstat(ours.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{info.st_dev}:{info.st_ino}")
        assert journal_stream(ours) and not journal_stream(other)
        configure_logging("INFO", ours)
        logging.getLogger("maildesk.x").warning("careful")
        ours.flush()
        assert (tmp_path / "journal").read_text() == "<4>maildesk.x: careful\n"
        monkeypatch.delenv("JOURNAL_STREAM")
        assert not journal_stream(ours)


def test_ingest_logs_to_syslog_mail_facility(tmp_path: Path) -> None:
    # Scenario: with a syslog socket, ingest's records go there (mail facility), folded; stderr stays empty.
    address = str(tmp_path / "log")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as syslog:
        syslog.bind(address)
        syslog.settimeout(5)
        configure_mta_logging("INFO", address)
        logging.getLogger("maildesk.cli").error("could not\nstore")
        got = syslog.recv(4096).decode()
    # <19> = facility mail (2) × 8 + err (3)
    assert got.rstrip("\0") == f"<19>maildesk-ingest[{os.getpid()}]: maildesk.cli: could not | store"


def test_ingest_without_syslog_keeps_info_off_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Scenario: no syslog socket: INFO is dropped (the MTA would show it), a warning still reaches stderr.
    configure_mta_logging("INFO", str(tmp_path / "no-such-socket"))
    logging.getLogger("maildesk.cli").info("stored")
    logging.getLogger("maildesk.cli").warning("not handed on")
    err = capsys.readouterr().err
    assert "stored" not in err and err.count("\n") == 1 and "WARNING maildesk.cli: not handed on" in err


def test_fold_drops_blank_lines_and_indentation() -> None:
    # Scenario: what an MTA shows the sender is one tidy line.
    assert fold("a\n\n  b\n\tc  \n") == "a | b | c"


def test_a_thread_that_dies_is_one_record_not_a_printed_traceback(tmp_path: Path) -> None:
    # Scenario: an uncaught error in a thread (an IMAP fetcher, the metrics server) is logged, folded.
    with open(tmp_path / "err", "w") as out:
        configure_logging("INFO", out)
        thread = threading.Thread(target=lambda: 1 / 0, name="imap-support")
        thread.start()
        thread.join()
    text = (tmp_path / "err").read_text()
    assert text.count("\n") == 1 and " CRITICAL maildesk: imap-support died | Traceback " in text
    assert text.rstrip().endswith("ZeroDivisionError: division by zero")
