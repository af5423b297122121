"""How much a `maildesk` command loads before it works: importing the CLI loads no heavy library,
each command loads what it runs and no more, and the reads a running daemon answers load neither
SQLAlchemy nor pydantic. Each test prints the import time `python -X importtime` counts (a figure
for the reader, not a timed assertion: bench/cli.py times whole commands)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest
from conftest import ServeProcess, make_mail, query, wait_for

from maildesk.admin import ticket_reads
from maildesk.admin.ticket_request import ListRequest
from maildesk.store import migrate, revision
from maildesk.store.db import Database

#: What no command may pay for before it runs: the database layer, config validation, templates, the
#: broker, calendars' holidays, the SMTP server, mail parsing, and maildesk's own heavy layers.
HEAVY = ("sqlalchemy", "alembic", "pydantic", "jinja2", "dramatiq", "holidays", "aiosmtpd", "mailparser",
         "maildesk.store", "maildesk.pipeline", "maildesk.runtime", "maildesk.notices", "maildesk.arrival",
         "maildesk.config.model")
#: What a command that only reads tickets may load (the store, the settings) but not the rest.
NOT_FOR_READS = ("alembic", "jinja2", "dramatiq", "holidays", "aiosmtpd", "mailparser", "maildesk.pipeline",
                 "maildesk.runtime", "maildesk.notices", "maildesk.arrival")


def importtime(*args: str, stdin: bytes = b"") -> tuple[float, set[str], subprocess.CompletedProcess[str]]:
    """Run `python -X importtime ARGS`: seconds of imports (the top-level entries summed), the modules
    imported, and the process (its stderr without the import lines)."""
    result = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True, text=True,
                            timeout=120, input=stdin.decode())
    micros, modules, others = 0, set(), []
    for line in result.stderr.splitlines(keepends=True):
        if not line.startswith("import time:"):
            others.append(line)
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, cumulative, name = line.removeprefix("import time:").split("|")
        modules.add(name.strip())
        if not name.startswith("  "):  # a top-level import: its figure includes what it imported
            micros += int(cumulative)
    result.stderr = "".join(others)  # what the command itself wrote there
    return micros / 1e6, modules, result


def loaded(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


def test_importing_the_cli_loads_no_heavy_library() -> None:
    # `import maildesk.cli.app` (what every command but a piped mail for a running daemon pays first) loads
    # neither SQLAlchemy, pydantic, Jinja2, dramatiq nor the pipeline; `import maildesk.cli` not even click.
    seconds, modules, result = importtime("-c", "import maildesk.cli.app")
    assert result.returncode == 0, result.stderr[-2000:]
    print(f"import maildesk.cli.app: {seconds:.3f} s of imports, {len(modules)} modules")
    assert "click" in modules and "maildesk.cli.tickets" in modules
    assert loaded(modules, HEAVY) == []
    _, modules, result = importtime("-c", "import maildesk.cli")
    assert result.returncode == 0, result.stderr[-2000:]
    assert loaded(modules, ("click", "maildesk.cli.app")) == []


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_loads_no_heavy_library(flag: str) -> None:
    # `maildesk --help` and `-h` list every command from the command modules alone.
    seconds, modules, result = importtime("-m", "maildesk", flag)
    print(f"maildesk {flag}: {seconds:.3f} s of imports")
    assert result.returncode == 0 and "tickets" in result.stdout and "completion" in result.stdout
    assert loaded(modules, HEAVY) == []


def test_a_read_without_a_daemon_loads_only_the_store_and_the_settings(serve: Callable[..., ServeProcess]) -> None:
    # With no daemon running, `tickets show` reads the store itself: SQLAlchemy and pydantic, but not the
    # pipeline, templates, broker, migrations or holidays.
    daemon = serve()
    assert daemon.cli("ingest", stdin=make_mail()).returncode == 0
    for args in (("tickets", "show", "1"), ("tickets", "list", "--text", "printer"), ("agents", "list"),
                 ("quarantine", "list")):
        seconds, modules, result = importtime("-m", "maildesk", "--config", str(daemon.config_path), *args)
        print(f"maildesk {' '.join(args)} (no daemon): {seconds:.3f} s of imports")
        assert result.returncode == 0, result.stderr[-2000:]
        assert "sqlalchemy" in modules
        assert loaded(modules, NOT_FOR_READS) == [], args


def test_the_daemon_answers_reads_and_they_load_no_heavy_library(serve: Callable[..., ServeProcess]) -> None:
    # With `maildesk serve` running, `tickets show` and `tickets list` are answered over its local socket:
    # the command loads no heavy library and prints exactly what reading the store itself prints.
    daemon = serve().start()
    try:
        assert daemon.cli("ingest", stdin=make_mail()).returncode == 0
        # The daemon took the mail durably; its pipeline makes the ticket a moment later.
        wait_for(lambda: query(daemon.settings, "SELECT count(*) FROM tickets") == [(1,)], 30, "the ticket")
        db = Database(daemon.settings.database.url)
        for args, direct in ((("tickets", "show", "1"), lambda: ticket_reads.show_text(db, "", "1", False)),
                             (("tickets", "show", "#1", "--json"), lambda: ticket_reads.show_text(db, "", "1", True)),
                             (("tickets", "list"), lambda: ticket_reads.list_text(
                                 db, "", ListRequest(admin="x"), False))):
            seconds, modules, result = importtime("-m", "maildesk", "--config", str(daemon.config_path), *args)
            print(f"maildesk {' '.join(args)} (daemon running): {seconds:.3f} s of imports")
            assert result.returncode == 0, result.stderr[-2000:]
            assert loaded(modules, HEAVY) == [], args
            assert result.stdout == direct()
        missing = daemon.cli("tickets", "show", "99")
        assert (missing.returncode, missing.stderr) == (2, b"maildesk: no ticket #99\n")
        db.dispose()
    finally:
        assert daemon.stop() == 0
    assert not (daemon.settings.desk.data_dir / "maildesk.sock").exists()


def test_the_schema_check_knows_the_newest_migration() -> None:
    # revision.HEAD (what every start checks without Alembic) is the revision Alembic's scripts end at.
    assert migrate.head_revision() == revision.HEAD

