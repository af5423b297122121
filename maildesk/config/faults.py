"""Faults found in one config file, each on its own line in the house format.

A line names the file, the key and the value: `maildesk.conf: smtp.lmtp = 1 should be true or
false`. Tables are validated by pydantic (one TypeAdapter per settings class, built on first use
and kept for the process); its errors are turned into the same phrases the hand-written checks use.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

from pydantic import TypeAdapter
from pydantic_core import ErrorDetails, ValidationError

from maildesk.config.fields import CUSTOM
from maildesk.errors import ConfigError

T = TypeVar("T")

# What a value of the wrong type should have been, by pydantic error type; {…} is its context.
_EXPECTED = {
    "bool_type": "true or false",
    "int_type": "an integer",
    "float_type": "a number",
    "string_type": "a string",
    "tuple_type": "a list",
    "list_type": "a list",
    "dataclass_type": "a table",
    "dict_type": "a table",
    "path_type": "a string (a path)",
    "date_type": "a date such as 2026-12-25",
    "literal_error": "{expected}",
    "greater_than": "greater than {gt}",
    "greater_than_equal": "{ge} or more",
    "less_than": "less than {lt}",
    "less_than_equal": "{le} or less",
}


# One adapter per settings class, built on first use: building one costs far more than using it.
_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(kind: type[Any]) -> TypeAdapter[Any]:
    if kind not in _ADAPTERS:
        _ADAPTERS[kind] = TypeAdapter(kind)
    return _ADAPTERS[kind]


def one_of(choices: Iterable[str]) -> str:
    """'a', 'b' or 'c': the values a key may take, as pydantic lists a Literal's."""
    quoted = [repr(c) for c in choices]
    if not quoted:
        return "a name declared in the file (none is)"
    return " or ".join(filter(None, (", ".join(quoted[:-1]), quoted[-1])))


class Faults:
    """The fault lines of one file, collected so that one ConfigError lists them all."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.base = path.resolve().parent
        self.lines: list[str] = []
        self._note = ""

    def add(self, text: str) -> None:
        """One fault, `text` naming the key, e.g. "desk.address is required"."""
        self.lines.append(f"{self.path}: {text}{self._note}")

    def wrong(self, key: str, value: Any, expected: str) -> None:
        """`key = value should be expected`."""
        self.add(f"{key} = {value!r} should be {expected}")

    def known(self, key: str, value: str, allowed: Iterable[str]) -> bool:
        """Whether `value` is one of `allowed` (a name declared elsewhere in the file); a fault if not."""
        choices = sorted(allowed)
        if value in choices:
            return True
        self.wrong(key, value, one_of(choices))
        return False

    @contextmanager
    def about(self, note: str) -> Iterator[None]:
        """Ends each line added meanwhile with ` (note)`, e.g. the rule a key belongs to."""
        self._note = f" ({note})"
        try:
            yield
        finally:
            self._note = ""

    def check(self, kind: type[T], key: str, table: Any, /, names: Mapping[str, str] | None = None,
              **built: Any) -> T | None:
        """`table` (the file's `key`) with the values `built` from other keys, as a `kind`; None
        after adding its faults. `names` gives the file's key for a Settings attribute moved."""
        if not isinstance(table, dict):
            self.wrong(key, table, "a table")
            return None
        for name in sorted(table.keys() & built.keys()):
            self.add(f"unknown key {_join(key, (name,))}")
        try:
            value = _adapter(kind).validate_python({**table, **built}, context={"base": self.base})
        except ValidationError as exc:
            for error in exc.errors():
                where = _join("", error["loc"])
                self.add(describe((names or {}).get(where) or _join(key, error["loc"]), error))
            return None
        return cast(T, value)

    def result(self, value: T | None) -> T:
        """`value`, or one ConfigError listing every fault, one a line, if there is any."""
        if self.lines or value is None:
            raise ConfigError("\n".join(self.lines))
        return value


def describe(key: str, error: ErrorDetails) -> str:
    """A pydantic error as the house phrase for `key`."""
    kind = error["type"]
    context = error.get("ctx", {})
    if kind == "missing":
        return f"{key} is required"
    if kind in ("unexpected_keyword_argument", "extra_forbidden"):
        return f"unknown key {key}"
    value = context.get("value", error["input"])
    if kind == CUSTOM:
        return f"{key} = {value!r} {error['msg']}"
    if kind in _EXPECTED:
        bounds = {name: _plain(v) for name, v in context.items()}
        return f"{key} = {value!r} should be {_EXPECTED[kind].format(**bounds)}"
    return f"{key} = {value!r}: {error['msg']}"


def _plain(value: Any) -> Any:
    # Bounds come as floats for float fields: "greater than 0", not "greater than 0.0".
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _join(key: str, loc: Iterable[int | str]) -> str:
    for part in loc:
        key = f"{key}[{part}]" if isinstance(part, int) else f"{key}.{part}" if key else str(part)
    return key
