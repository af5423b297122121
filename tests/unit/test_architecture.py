"""The shape of the package, checked from its source: few loose modules, small modules and functions,
one writer of ticket rows and one way into the outbox (docs/architecture.md)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "maildesk"
#: Declarative tables may run long; a migration is a script, not a module one reads.
LONG_ALLOWED = {"store/models.py"}
MODULE_LINES, FUNCTION_LINES, LOOSE = 400, 50, 3


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if not name.startswith("store/migrations/"):
            yield name, ast.parse(path.read_text(encoding="utf-8"))


def _calls_of(tree: ast.Module, module: str, function: str) -> list[int]:
    """Lines calling `module.function(...)` (the store is always called through its module name)."""
    return [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
            and n.func.attr == function and isinstance(n.func.value, ast.Name) and n.func.value.id == module]


def test_at_most_three_modules_sit_loose_at_the_top() -> None:
    # The folders show the path of one message; only the error tree and the metrics sit beside them.
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert len(loose) <= LOOSE, loose


@pytest.mark.parametrize("name, tree", list(_modules()), ids=lambda v: v if isinstance(v, str) else "")
def test_modules_and_functions_stay_small(name: str, tree: ast.Module) -> None:
    # No module over 400 lines (declarative tables aside), no function over 50.
    lines = (PACKAGE / name).read_text(encoding="utf-8").count("\n")
    assert name in LONG_ALLOWED or lines <= MODULE_LINES, f"{name}: {lines} lines"
    long = [(f.name, f.end_lineno - f.lineno + 1) for f in ast.walk(tree)
            if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef) and f.end_lineno is not None
            and f.end_lineno - f.lineno + 1 > FUNCTION_LINES]
    assert not long, f"{name}: {long}"


def test_only_the_ticket_writer_writes_ticket_rows() -> None:
    # store.tickets' writes are called from maildesk/tickets/apply.py and nowhere else.
    writers = {(name, fn) for name, tree in _modules() for fn in ("insert_new", "save_many")
               for _ in _calls_of(tree, "rows", fn) + _calls_of(tree, "tickets", fn)}
    assert {name for name, _ in writers} == {"tickets/apply.py"}


def test_only_the_ticket_writer_assigns_a_status() -> None:
    # A ticket's status is set (made or replaced) in exactly one module: the writer. Modules that
    # never see a TicketState (the SLA clock's own Clock has a status too) are not tickets.
    assigning = {name for name, tree in _modules() if "TicketState" in ast.unparse(tree)
                 for n in ast.walk(tree) if isinstance(n, ast.Call) and any(k.arg == "status" for k in n.keywords)
                 and _callee(n) in ("replace", "TicketState")}
    assert assigning == {"tickets/apply.py"}


def _callee(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def test_only_the_gate_adds_outbox_rows() -> None:
    # store.outbox.add is called by maildesk.outbound.gate.admit alone; no other module inserts outbox rows.
    callers = {name for name, tree in _modules() if _calls_of(tree, "outbox", "add")}
    assert callers == {"outbound/gate.py"}
    gate = dict(_modules())["outbound/gate.py"]
    inside = [f.name for f in ast.walk(gate) if isinstance(f, ast.FunctionDef) and _calls_of(
        ast.Module(body=[f], type_ignores=[]), "outbox", "add")]
    assert inside == ["admit"]
    inserting = {name for name, tree in _modules()
                 if "insert(_o)" in ast.unparse(tree) or "insert(sql.outbox)" in ast.unparse(tree)}
    assert inserting == {"store/outbox.py"}
