"""The value types that config keys are declared with: strict numbers and flags, bounds, names,
addresses, paths beside the config file, lists written as one value or many.

Each type is a `typing.Annotated` alias read by pydantic; to the rest of the package the attribute
is a plain int, float, bool, str, tuple or Path. A test pydantic has no word for raises a custom
error whose text ends the house message, `KEY = VALUE <text>` (see faults.py).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, cast

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    StrictBool,
    StrictInt,
    ValidationInfo,
)
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

# Every settings class refuses keys it does not declare.
FORBID = ConfigDict(extra="forbid")
# The error type of the tests below; the formatter prints their text after `KEY = VALUE`.
CUSTOM = "maildesk"

Language = Literal["en", "uk", "ru"]
# The values of maildesk.domain.Priority (a test keeps the two equal).
PriorityName = Literal["low", "normal", "high", "urgent"]

_ADDRESS = re.compile(r"^[^@\s<>\"(),;:\\\[\]]+@[A-Za-z0-9.-]+\.?[A-Za-z0-9-]*$")
LISTEN = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:\s]+)):(?P<port>\d{1,5})$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class _Built:
    """Marks an attribute that its own step builds from other sections and validates: the class
    holding it takes the value as it is, so its adapter need not build that value's schema again."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.any_schema()


BUILT = _Built()


def expect(test: Callable[[Any], object], text: str) -> AfterValidator:
    """A validator refusing a value for which `test` is false; `text` ends the message."""

    def run(value: Any) -> Any:
        if not test(value):
            raise PydanticCustomError(CUSTOM, text)
        return value

    return AfterValidator(run)


def refuse(value: Any, text: str) -> PydanticCustomError:
    """The error for `value` (one item of what the key holds) with `text` ending the message."""
    return PydanticCustomError(CUSTOM, text, {"value": value})


def is_address(value: str) -> bool:
    """Whether `value` looks like one bare mail address."""
    return bool(_ADDRESS.match(value))


def parse_listen(value: str) -> tuple[str, int] | None:
    """(host, port) of "HOST:PORT" or "[V6]:PORT", or None when it is neither."""
    m = LISTEN.match(value)
    if m is None or not 0 < int(m["port"]) < 65536:
        return None
    return (m["v6"] or m["host"]), int(m["port"])


def one_or_many(value: Any) -> Any:
    """A list, or one string standing for a list of it; an empty list is refused."""
    items = [value] if isinstance(value, str) else value
    if isinstance(items, list) and not items:
        raise refuse(value, "should be a non-empty string or list of non-empty strings")
    return items


def empty_is_none(value: Any) -> Any:
    """"" in the file stands for no value."""
    return None if value == "" else value


def _beside_config(value: Path, info: ValidationInfo) -> Path:
    # Relative paths are relative to the directory of the config file (faults.py passes it).
    base = cast(dict[str, Path], info.context)["base"]
    return (base / value).resolve()


def _known_zone(value: str) -> bool:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _days(value: Any) -> Any:
    out = []
    for item in value if isinstance(value, list) else [value]:
        try:
            out.append(item if isinstance(item, date) else date.fromisoformat(item))
        except (TypeError, ValueError):
            raise refuse(item, "should be a date such as 2026-12-25") from None
    return out


def _hours(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return tuple(value.items())
    raise refuse(value, 'should be "24/7" or a table like { "mon-fri" = "09:00-18:00" }')


Flag = StrictBool
# A number written as an integer or a decimal, never as a string or true/false.
Number = Annotated[float, Field(strict=True)]
Positive = Annotated[StrictInt, Field(gt=0)]
NotNegative = Annotated[StrictInt, Field(ge=0)]
PositiveNumber = Annotated[Number, Field(gt=0)]
NotNegativeNumber = Annotated[Number, Field(ge=0)]
Port = Annotated[StrictInt, Field(ge=0, le=65535)]
NonEmpty = Annotated[str, expect(bool, "should not be empty")]
Strings = Annotated[tuple[NonEmpty, ...], BeforeValidator(one_or_many)]
Name = Annotated[str, expect(_NAME.match, "should be a name of lowercase letters, digits, - or _")]
Address = Annotated[str, expect(is_address, "is not a mail address like support@example.org")]
LowerAddress = Annotated[Address, AfterValidator(str.lower)]
AddressOrEmpty = Annotated[
    str, expect(lambda v: v == "" or is_address(v), "is not a mail address like support@example.org")]
Zone = Annotated[str, expect(_known_zone, "should be an IANA time zone such as Europe/Kyiv")]
Hours = Annotated[tuple[tuple[str, str], ...] | str, BeforeValidator(_hours)]
Days = Annotated[tuple[date, ...], BeforeValidator(_days)]
BesideConfig = Annotated[Path, AfterValidator(_beside_config)]
# "" in the file means no path.
PathOrNone = Annotated[BesideConfig | None, BeforeValidator(empty_is_none)]
