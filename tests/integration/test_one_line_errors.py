"""Every CLI error is one line on stderr, never a traceback: a broker that is down, and errors nobody
foresaw (maildesk's own errors: test_cli.py, test_ingest_cli.py)."""

from __future__ import annotations

import json
from collections.abc import Callable

from conftest import ServeProcess, free_port


def test_status_with_the_broker_down_reports_the_rest(serve: Callable[..., ServeProcess]) -> None:
    # Redis is not running: status still shows the store's figures, says why the queue is unknown, exits 1.
    daemon = serve(f'[broker]\nurl = "redis://127.0.0.1:{free_port()}/0"\n')
    shown = daemon.cli("status")
    assert shown.returncode == 1 and shown.stderr == b""
    lines = shown.stdout.decode().splitlines()
    assert lines[0].startswith("queue depth:   broker unreachable: cannot reach the broker: ")
    assert "Connection refused" in lines[0] and lines[1].startswith("inbound:") and lines[-1] == "STUCK: see above"
    report = json.loads(daemon.cli("status", "--json").stdout)
    assert report["queue_depth"] is None and "Connection refused" in report["broker_error"]
    assert report["stuck"] is True


def test_an_error_nobody_translated_is_one_line_with_status_70(serve: Callable[..., ServeProcess]) -> None:
    # Writing the report where no folder exists: the OSError becomes one line, exit 70 (EX_SOFTWARE).
    daemon = serve()
    result = daemon.cli("report", "--html", str(daemon.config_path.parent / "missing" / "report.html"))
    assert result.returncode == 70
    assert result.stderr.decode().splitlines() == [
        f"maildesk: unexpected FileNotFoundError: [Errno 2] No such file or directory: "
        f"'{daemon.config_path.parent / 'missing' / 'report.html'}'"]

