"""`maildesk status` and the Prometheus endpoint of a running daemon."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import ServeProcess, free_port, make_mail, outbox_files, query, send_smtp, wait_for
from servers import Redis, redis_server  # noqa: F401


def _metric(text: str, name: str) -> float:
    values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " ")]
    return sum(values)


def test_status_and_metrics_after_one_mail(serve: Callable[..., ServeProcess]) -> None:
    # One mail through serve with [metrics] on: counters say received/processed/ack sent; status says idle.
    port = free_port()
    daemon = serve(f'[metrics]\nlisten = "127.0.0.1:{port}"\n').start()
    send_smtp(daemon, make_mail())
    wait_for(lambda: len(outbox_files(daemon.settings)) == 1, 10, "the acknowledgement")

    def scrape() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            return str(response.read().decode())
    wait_for(lambda: _metric(scrape(), "maildesk_acknowledgements_sent_total") == 1, 5, "the ack counter")
    text = scrape()
    assert _metric(text, "maildesk_received_total") == 1
    assert _metric(text, "maildesk_processed_total") == 1
    assert "dramatiq_messages_total" in text  # dramatiq's own middleware, in the same endpoint
    shown = daemon.cli("status", "--json")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    report = json.loads(shown.stdout)
    assert report["inbound"]["waiting"] == 0 and report["outbox"]["waiting"] == 0
    assert report["queue_depth"] is None and report["stuck"] is False
    assert report["last_sweep"] is not None
    assert "nothing stuck" in daemon.cli("status").stdout.decode()
    assert daemon.stop() == 0


def _scrape(port: int) -> dict[str, float]:
    """Every sample of the endpoint, by its name with labels as printed."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines() if line and not line.startswith("#")}


def test_gauges_to_alert_on_with_the_env_examples_multiproc_dir(serve: Callable[..., ServeProcess], tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # $PROMETHEUS_MULTIPROC_DIR names a folder not made yet: serve starts; the gauges read the store.
    port = free_port()
    multiproc = tmp_path / "run" / "maildesk"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(multiproc))
    daemon = serve(f'[metrics]\nlisten = "127.0.0.1:{port}"\n').start()
    assert [p.name[:17] for p in multiproc.iterdir()] == ["maildesk-metrics-"]
    send_smtp(daemon, make_mail())
    wait_for(lambda: len(outbox_files(daemon.settings)) == 1, 10, "the acknowledgement")
    query(daemon.settings, "update inbound set state = 'quarantined'")
    query(daemon.settings, "update outbox set state = 'failed'")
    query(daemon.settings, "insert into imap_state (account, folder, last_uid, backlog, fetched, last_error, alerted, "
                           "last_success_at) values ('support', 'INBOX', 0, 3, 0, '', 0, '2026-12-01 10:00:00')")
    got = _scrape(port)
    assert got["maildesk_quarantine_size"] == 1 and got["maildesk_outbox_failed"] == 1
    assert got["maildesk_inbound_waiting"] == 0 and got["maildesk_inbound_oldest_age_seconds"] == 0
    assert got["maildesk_outbox_waiting"] == 0
    assert 0 <= got["maildesk_last_sweep_age_seconds"] < 30
    mailbox = '{folder="INBOX",mailbox="support"}'
    assert got["maildesk_imap_last_success_timestamp_seconds" + mailbox] == datetime(
        2026, 12, 1, 10, tzinfo=UTC).timestamp()
    assert got["maildesk_imap_backlog" + mailbox] == 3 and got["maildesk_imap_failing" + mailbox] == 0
    assert got["process_resident_memory_bytes"] > 0  # serve itself
    assert got["maildesk_pipeline_process_resident_memory_bytes"] > 0  # and its pipeline child
    assert daemon.stop() == 0
    assert list(multiproc.iterdir()) == []


def test_status_reports_stuck_rows(serve: Callable[..., ServeProcess]) -> None:
    # Mail stored while no daemon runs, older than stuck_after: status says STUCK and exits 1.
    daemon = serve(smtp="enabled = false\n")
    stored = daemon.cli("ingest", "-f", "bob@client.example", stdin=make_mail())
    assert stored.returncode == 0
    query(daemon.settings, "update inbound set state = 'received', received_at = '2020-01-01 00:00:00'")
    shown = daemon.cli("status")
    assert shown.returncode == 1
    assert "1 stuck" in shown.stdout.decode() and "STUCK" in shown.stdout.decode()


def test_a_worker_on_the_front_ends_host_serves_its_own_port(serve: Callable[..., ServeProcess],
                                                             redis_server: Redis) -> None:  # noqa: F811
    # [metrics] worker_listen: the front end keeps `listen`, the worker beside it serves its own port.
    front_port, worker_port = free_port(), free_port()
    daemon = serve(f'[broker]\nurl = "{redis_server.new_url()}"\n'
                   f'[metrics]\nlisten = "127.0.0.1:{front_port}"\nworker_listen = "127.0.0.1:{worker_port}"\n')
    daemon.start_args = ("serve", "--no-workers")
    daemon.start()
    worker, log = daemon.worker("-p", "1", "-t", "1")
    try:
        send_smtp(daemon, make_mail())
        wait_for(lambda: len(outbox_files(daemon.settings)) == 1, 30, "the worker's acknowledgement")
        wait_for(lambda: _scrape(worker_port).get("maildesk_processed_total") == 1, 10, "the worker's counter")
        front = _scrape(front_port)
        assert front["maildesk_received_total"] == 1 and front.get("maildesk_processed_total", 0) == 0
        assert "maildesk_inbound_waiting" in front and "maildesk_inbound_waiting" not in _scrape(worker_port)
        assert worker.poll() is None, log.read_text()
    finally:
        worker.terminate()
        assert worker.wait(30) == 0, log.read_text()[-2000:]
    assert daemon.stop() == 0


def test_a_worker_whose_metrics_port_is_taken_names_the_key_in_one_line(serve: Callable[..., ServeProcess],
                                                                        redis_server: Redis) -> None:  # noqa: F811
    # A worker on a front end's host with only `listen` set: exit 2 and one line that says which key to set.
    port = free_port()
    daemon = serve(f'[broker]\nurl = "{redis_server.new_url()}"\n[metrics]\nlisten = "127.0.0.1:{port}"\n')
    with socket.create_server(("127.0.0.1", port)):  # the front end's endpoint
        result = subprocess.run([sys.executable, "-m", "maildesk", "--config", str(daemon.config_path), "worker",
                                 "-p", "1"], capture_output=True, timeout=60)
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert [line for line in stderr.splitlines() if line.startswith("maildesk:")] == [
        "maildesk: the worker's metrics endpoint ([metrics] worker_listen, else listen) cannot listen on "
        f"127.0.0.1:{port}: Address already in use"]
    assert "Traceback" not in stderr
