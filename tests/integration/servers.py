"""Private PostgreSQL, Redis and RabbitMQ servers on loopback ports, for integration tests.

Test modules take a fixture with `from servers import postgres_server  # noqa: F401` (a module of
its own rather than tests/integration/conftest.py, which would shadow tests/conftest.py).

Each server is started once per test session in a temporary folder, from the binaries Debian's
packages install (.ci/run installs them). The packaged services are never touched. Without a
binary the tests that need it skip outside CI and fail under CI=true.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from conftest import free_port


def require(binary: str, what: str) -> str:
    """The path of `binary`; skip (or fail under CI) when it is not installed."""
    found = shutil.which(binary) or next(iter(sorted(glob.glob(binary))), None)
    if found:
        return found
    message = f"{what} is not installed ({binary}; apt-get install it, as .ci/run does)"
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but " + message)
    pytest.skip(message)


def _wait_port(port: int, timeout: float, what: str, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what} exited with status {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} on port {port}")


def _as_postgres(args: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; CI and developer containers run as root.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@dataclass
class Postgres:
    """A running PostgreSQL cluster; `new_database()` gives each test a fresh, empty database."""

    port: int
    root: Path
    counter: Iterator[int] = field(default_factory=itertools.count)

    def admin_url(self, database: str = "postgres") -> str:
        """A libpq URL for the superuser."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        name = f"md_{os.getpid()}_{next(self.counter)}"
        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


def start_postgres(root: Path) -> Postgres:
    """initdb and start a throwaway cluster in `root` on a free loopback port (also used by bench/)."""
    bindir = Path(require("/usr/lib/postgresql/*/bin/initdb", "PostgreSQL")).parent
    data, sockets = root / "data", root / "run"
    for d in (root, data, sockets):
        d.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            os.chown(d, pwd.getpwnam("postgres").pw_uid, -1)
    subprocess.run(_as_postgres([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                                 "--no-sync"]), check=True, capture_output=True, timeout=120)
    port = free_port()
    # Durability is irrelevant for a throwaway test cluster; fsync=off makes it several times faster.
    options = (f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300")
    subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "pg.log"),
                                 "-o", options, "-w", "start"]), check=True, capture_output=True, timeout=120)
    return Postgres(port=port, root=root)


def stop_postgres(server: Postgres) -> None:
    """Stop the cluster at once; its data is thrown away anyway."""
    bindir = Path(require("/usr/lib/postgresql/*/bin/pg_ctl", "PostgreSQL")).parent
    subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(server.root / "data"), "-m", "immediate",
                                 "stop"]), capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    """One PostgreSQL cluster for the whole session."""
    require("/usr/lib/postgresql/*/bin/initdb", "PostgreSQL")
    root = Path(tempfile.mkdtemp(prefix="maildesk-pg-"))
    server = start_postgres(root)
    try:
        yield server
    finally:
        stop_postgres(server)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Redis:
    """A running Redis; `new_url()` gives each test an emptied logical database."""

    port: int
    counter: Iterator[int] = field(default_factory=lambda: itertools.cycle(range(1, 16)))

    def new_url(self) -> str:
        """A redis:// URL on a logical database that has just been flushed."""
        db = next(self.counter)
        client = redis.Redis(host="127.0.0.1", port=self.port, db=db)
        client.flushdb()
        client.close()
        return f"redis://127.0.0.1:{self.port}/{db}"


def start_redis() -> tuple[Redis, subprocess.Popen[bytes]]:
    """A Redis in memory only, on a free loopback port (also used by bench/)."""
    binary = require("redis-server", "Redis")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--daemonize", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_port(port, 20, "redis-server", proc)
    return Redis(port=port), proc


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Redis]:
    """One Redis for the whole session, in memory only."""
    server, proc = start_redis()
    try:
        yield server
    finally:
        proc.terminate()
        proc.wait(20)


@dataclass
class RabbitMQ:
    """A running RabbitMQ node; tests share its default vhost, so queues are purged per test."""

    port: int
    purge: Callable[[], None]

    @property
    def url(self) -> str:
        """The amqp:// URL of the default vhost."""
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"


def _purge_rabbit(port: int) -> None:
    import pika  # only here: the test helpers outside rabbit tests never need it

    params = pika.ConnectionParameters(host="127.0.0.1", port=port)
    connection = pika.BlockingConnection(params)
    channel = connection.channel()
    for queue in ("default", "default.DQ", "default.XQ"):
        with contextlib.suppress(Exception):
            channel.queue_purge(queue)
    with contextlib.suppress(Exception):
        connection.close()


@pytest.fixture(scope="session")
def rabbitmq_server() -> Iterator[RabbitMQ]:
    """One RabbitMQ node for the whole session (it takes several seconds to boot)."""
    # The real script, not /usr/sbin's wrapper, which switches to the rabbitmq user and drops our env.
    binary = require("/usr/lib/rabbitmq/bin/rabbitmq-server", "RabbitMQ")
    root = Path(tempfile.mkdtemp(prefix="maildesk-rabbit-"))
    port, dist = free_port(), free_port()
    env = os.environ | {
        "HOME": str(root), "RABBITMQ_NODE_PORT": str(port), "RABBITMQ_DIST_PORT": str(dist),
        "RABBITMQ_NODENAME": f"maildesk{port}@localhost", "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_MNESIA_BASE": str(root / "mnesia"), "RABBITMQ_LOG_BASE": str(root / "log"),
        "RABBITMQ_CONFIG_FILE": str(root / "rabbitmq"), "RABBITMQ_ENABLED_PLUGINS_FILE": str(root / "plugins"),
        "RABBITMQ_ENABLED_PLUGINS": "", "ERL_EPMD_ADDRESS": "127.0.0.1",
    }
    (root / "rabbitmq.conf").write_text("loopback_users = none\n")
    (root / "plugins").write_text("[].\n")
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        _wait_port(port, 120, "rabbitmq-server", proc)
        yield RabbitMQ(port=port, purge=lambda: _purge_rabbit(port))
    finally:
        subprocess.run([str(Path(binary).with_name("rabbitmqctl")), "-n", env["RABBITMQ_NODENAME"], "stop"], env=env,
                       capture_output=True, timeout=60)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(30)
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
        shutil.rmtree(root, ignore_errors=True)


BACKENDS = ["sqlite", "postgres+redis"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Config tables for one backend: nothing for SQLite + embedded, else a fresh PostgreSQL database
    and an emptied Redis. A test module runs its `serve` tests on each by overriding `serve` with
    `serve_on_backend` (see test_serve_smtp.py)."""
    if request.param == "sqlite":
        return ""
    pg: Postgres = request.getfixturevalue("postgres_server")
    rd: Redis = request.getfixturevalue("redis_server")
    return f'[database]\nurl = "{pg.new_database()}"\n[broker]\nurl = "{rd.new_url()}"\n'


def serve_on_backend(serve: Callable[..., Any], backend: str) -> Callable[..., Any]:
    """Wrap conftest's `serve` factory so every daemon it makes uses `backend`."""
    def factory(extra: str = "", smtp: str = "", **desk: str) -> Any:
        return serve(extra + backend, smtp, **desk)
    return factory
