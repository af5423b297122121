"""The split deployment on RabbitMQ: a front end without workers, `maildesk worker`, PostgreSQL."""

from __future__ import annotations

import smtplib
from collections.abc import Callable

from conftest import ServeProcess, make_mail, outbox_files, query, wait_for
from servers import Postgres, RabbitMQ, postgres_server, rabbitmq_server  # noqa: F401


def test_front_end_and_worker_over_rabbitmq(serve: Callable[..., ServeProcess], postgres_server: Postgres,  # noqa: F811
                                            rabbitmq_server: RabbitMQ) -> None:  # noqa: F811
    # serve --no-workers queues 20 mails on RabbitMQ; one `maildesk worker` makes 20 tickets and 20 acks.
    rabbitmq_server.purge()
    daemon = serve(f'[database]\nurl = "{postgres_server.new_database()}"\n'
                   f'[broker]\nurl = "{rabbitmq_server.url}"\n')
    daemon.start_args = ("serve", "--no-workers")
    daemon.start()
    with smtplib.SMTP(daemon.settings.smtp.host, daemon.settings.smtp.port, timeout=10) as client:
        for i in range(20):
            client.sendmail(f"u{i}@client.example", ["support@example.org"],
                            make_mail(sender=f"u{i}@client.example", message_id=f"rmq{i}"))
    assert query(daemon.settings, "select count(*) from inbound where state = 'received'") == [(20,)]
    worker, log = daemon.worker("--processes", "1", "--threads", "2")
    try:
        try:
            wait_for(lambda: len(outbox_files(daemon.settings)) == 20, 60, "20 acknowledgements")
        except AssertionError:
            raise AssertionError(log.read_text()[-3000:] + daemon.log.read_text()[-3000:]) from None
        assert query(daemon.settings, "select count(*) from tickets") == [(20,)]
        status = daemon.cli("status", "--json")
        assert status.returncode == 0, status.stdout
    finally:
        worker.terminate()
        code = worker.wait(60)
    assert code == 0, log.read_text()[-3000:]
    assert daemon.stop() == 0
