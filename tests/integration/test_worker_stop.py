"""`maildesk worker` stops on SIGTERM within seconds, whatever became of its broker."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

import pytest
from conftest import ServeProcess, make_mail, query, store, wait_for
from servers import Postgres, postgres_server, start_redis  # noqa: F401

from maildesk.runtime.queue import Handlers, Jobs, make_broker
from maildesk.runtime.wiring import Runtime

BACKLOG = 300
#: systemd waits 90 s by default before SIGKILL; a worker should be gone long before.
STOPPED_WITHIN = 7.0


def _done(daemon: ServeProcess) -> int:
    return int(query(daemon.settings, "select count(*) from inbound where state = 'done'")[0][0])  # type: ignore[call-overload]


@pytest.mark.parametrize("broker_fate", ["killed", "frozen"])
def test_worker_stops_on_sigterm_after_its_redis_went_away(serve: Callable[..., ServeProcess],
                                                           postgres_server: Postgres,  # noqa: F811
                                                           broker_fate: str) -> None:
    # Scenario: Redis is killed (or frozen) while a worker works a backlog; SIGTERM still stops it within seconds, exit 0.
    redis, redis_proc = start_redis()
    try:
        daemon = serve(f'[database]\nurl = "{postgres_server.new_database()}"\n[broker]\nurl = "{redis.new_url()}"\n')
        runtime = Runtime.build(daemon.settings)
        ids = [store(runtime, make_mail(sender=f"c{i}@client.example", message_id=f"stop{i}")) for i in range(BACKLOG)]
        runtime.db.dispose()
        queue = Jobs(make_broker(daemon.settings.broker.url), Handlers(lambda i: (), lambda i: None, lambda i: ()))
        for inbound_id in ids:
            queue.enqueue_inbound(inbound_id)
        queue.broker.close()
        worker, log = daemon.worker("-p", "1", "-t", "2")
        wait_for(lambda: _done(daemon) >= 5, 60, "the worker to be busy with the backlog")
        redis_proc.send_signal(signal.SIGKILL if broker_fate == "killed" else signal.SIGSTOP)
        time.sleep(1)  # long enough for its acknowledgements to start failing
        asked = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        try:
            status = worker.wait(60)
        finally:
            if worker.poll() is None:
                worker.kill()
        took = time.monotonic() - asked
        assert status == 0, log.read_text()[-3000:]
        assert took < STOPPED_WITHIN, f"SIGTERM took {took:.1f}s"
        assert 0 < _done(daemon) < BACKLOG  # it was stopped in the middle, and what it did is kept
    finally:
        redis_proc.send_signal(signal.SIGCONT)
        redis_proc.kill()
        redis_proc.wait(10)
