"""The split deployment on PostgreSQL + Redis: `ingest` and the front end only enqueue, `worker` works."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable

from conftest import ServeProcess, make_mail, outbox_files, query, wait_for
from servers import Postgres, Redis, postgres_server, redis_server  # noqa: F401


def test_ingest_enqueues_and_a_worker_processes(serve: Callable[..., ServeProcess], postgres_server: Postgres,  # noqa: F811
                                                redis_server: Redis) -> None:  # noqa: F811
    # With Redis, `maildesk ingest` stores and queues (no processing); `maildesk worker` makes the ticket.
    daemon = serve(f'[database]\nurl = "{postgres_server.new_database()}"\n[broker]\nurl = "{redis_server.new_url()}"\n')
    stored = daemon.cli("ingest", "-f", "bob@client.example", "-r", "support@example.org", stdin=make_mail())
    assert stored.returncode == 0, stored.stderr
    assert query(daemon.settings, "select state from inbound") == [("received",)]
    report = json.loads(daemon.cli("status", "--json").stdout)
    assert report["queue_depth"] == 1 and report["inbound"]["waiting"] == 1
    worker = subprocess.Popen([sys.executable, "-m", "maildesk", "--config", str(daemon.config_path), "worker",
                               "-p", "2", "-t", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: len(outbox_files(daemon.settings)) == 1, 30, "the acknowledgement")
        assert query(daemon.settings, "select state from inbound") == [("done",)]
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0  # SIGTERM: children stop cleanly, the parent exits 0
    assert json.loads(daemon.cli("status", "--json").stdout)["queue_depth"] == 0


def test_no_workers_needs_a_shared_broker(serve: Callable[..., ServeProcess]) -> None:
    # `serve --no-workers` and `worker` refuse the embedded queue with a clear message.
    daemon = serve()
    refused = daemon.cli("serve", "--no-workers")
    assert refused.returncode == 2 and b"shared broker" in refused.stderr
    refused = daemon.cli("worker")
    assert refused.returncode == 2 and b"shared broker" in refused.stderr
