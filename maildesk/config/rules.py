"""`[[rules]]`: what a rule is in the settings, and the grammar of its `when` condition.

A condition is `{ field, match | regex, not, case_sensitive, header, calendar }` or a group
`{ all = [...] }` / `{ any = [...] }`; which keys go together depends on the field, so the grammar
is written out here, stopping at the first fault in a rule's condition. The rest of a rule, and its
`then`, are declared like every other table. Every faulty rule is reported, each line naming its
rule, so `maildesk rules check` lists them all at once.
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, with_config

from maildesk.config.faults import Faults, one_of
from maildesk.config.fields import (
    BUILT,
    FORBID,
    Address,
    Flag,
    Language,
    LowerAddress,
    PriorityName,
    Strings,
    empty_is_none,
    expect,
)

TEXT_FIELDS = ("subject", "body", "text", "header")
ADDRESS_FIELDS = ("recipient", "to_cc", "from", "from_domain")
CONDITION_FIELDS = (*ADDRESS_FIELDS, *TEXT_FIELDS, "attachment", "hours", "language", "abusive")
_CONDITION_KEYS = frozenset({"field", "match", "regex", "not", "case_sensitive", "header", "calendar",
                             "all", "any"})
LANGUAGES = typing.get_args(Language)
_TEMPLATE = re.compile(r"^[a-z0-9_][a-z0-9_/-]{0,63}$")
_HEADER = re.compile(r"[!-9;-~]+")


def _tables(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


def _lower(tags: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(t.lower() for t in tags)


@dataclass(frozen=True)
class ConditionSettings:
    """One test of a rule's `when`, or an `all`/`any` group of tests; `key` locates it in the file."""

    key: str
    field: str = ""
    group: str = ""
    children: tuple[ConditionSettings, ...] = ()
    header: str = ""
    patterns: tuple[str, ...] = ()
    regex: bool = False
    case_sensitive: bool = False
    negate: bool = False
    calendar: str = ""


@with_config(FORBID)
@dataclass(frozen=True)
class NotifySettings:
    """Send `template` about the ticket to the address `to`."""

    to: Address
    template: Annotated[str, expect(_TEMPLATE.match,
                                    "should be a template name such as notify_oncall")] = "notify"


@with_config(FORBID)
@dataclass(frozen=True)
class ActionSettings:
    """A rule's `then`: None (or empty, or False) leaves that field alone."""

    queue: str | None = None
    category: str | None = None
    type: Literal["request", "incident"] | None = None
    priority: PriorityName | None = None
    assignee: LowerAddress | None = None
    tier: Annotated[str | None, BeforeValidator(empty_is_none)] = None
    language: Language | None = None
    tags: Annotated[Strings, AfterValidator(_lower)] = ()
    suppress_ack: Flag = False
    spam: Flag = False
    notify: Annotated[tuple[NotifySettings, ...], BeforeValidator(_tables)] = ()


@with_config(FORBID)
@dataclass(frozen=True, kw_only=True)
class RuleSettings:
    """One `[[rules]]` entry; `when` None means every mail."""

    key: str
    name: str
    description: str = ""
    when: Annotated[ConditionSettings | None, BUILT]
    then: Annotated[ActionSettings, BUILT]
    stop: Flag = False
    on_followups: Flag = False


@dataclass(frozen=True)
class Known:
    """The names declared elsewhere in the file that a rule may refer to."""

    queues: frozenset[str]
    categories: frozenset[str]
    calendars: frozenset[str]


class _Bad(Exception):
    """A fault in a rule's condition: the grammar stops at the first one."""


def _bad(key: str, value: Any, expected: str) -> _Bad:
    return _Bad(f"{key} = {value!r} should be {expected}")


def rules_settings(given: Any, known: Known, faults: Faults) -> tuple[RuleSettings, ...]:
    """The `[[rules]]` array, checked against the `known` names; every faulty rule adds its lines."""
    if not isinstance(given, list):
        faults.wrong("rules", given, "an array of tables ([[rules]])")
        return ()
    seen: set[str] = set()
    rules = (_rule(f"rules[{i}]", spec, known, seen, faults) for i, spec in enumerate(given))
    return tuple(rule for rule in rules if rule is not None)


def _rule(key: str, spec: Any, known: Known, seen: set[str], faults: Faults) -> RuleSettings | None:
    if not isinstance(spec, dict):
        faults.wrong(key, spec, "a table")
        return None
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip():
        faults.add(f"{key}.name is required (a short unique name)")
        return None
    if name in seen:
        faults.add(f"{key}.name = {name!r} is used by an earlier rule")
        return None
    seen.add(name)
    with faults.about(f"rule {name!r}"):
        when = None
        try:
            when = _condition(f"{key}.when", spec["when"], known) if "when" in spec else None
        except _Bad as exc:
            faults.add(str(exc))
        then = _then(key, spec, known, faults)
        rest = {k: v for k, v in spec.items() if k not in ("name", "when", "then")}
        return faults.check(RuleSettings, key, rest, key=key, name=name, when=when,
                            then=then or ActionSettings())


def _then(key: str, spec: dict[str, Any], known: Known, faults: Faults) -> ActionSettings | None:
    if "then" not in spec:
        faults.add(f"{key}.then is required (what the rule sets)")
        return None
    if spec["then"] == {}:
        faults.add(f"{key}.then is empty; a rule must set something")
        return None
    then = faults.check(ActionSettings, f"{key}.then", spec["then"])
    if then is None:
        return None
    if then.queue is not None:
        faults.known(f"{key}.then.queue", then.queue, known.queues)
    if then.category is not None:
        faults.known(f"{key}.then.category", then.category, known.categories)
    return then


def _condition(key: str, spec: Any, known: Known) -> ConditionSettings:
    if not isinstance(spec, dict):
        raise _bad(key, spec, "a table")
    for name in spec:
        if name not in _CONDITION_KEYS:
            raise _Bad(f"unknown key {key}.{name} (known: {', '.join(sorted(_CONDITION_KEYS))})")
    negate = _flag(key, spec, "not")
    groups = [g for g in ("all", "any") if g in spec]
    if groups:
        return _group(key, spec, groups, negate, known)
    field = spec.get("field")
    if field not in CONDITION_FIELDS:
        raise _bad(f"{key}.field", field, one_of(CONDITION_FIELDS))
    return ConditionSettings(key=key, field=field, negate=negate, **_test(key, field, spec, known))


def _group(key: str, spec: dict[str, Any], groups: list[str], negate: bool,
           known: Known) -> ConditionSettings:
    group = groups[0]
    if len(groups) > 1 or set(spec) - {"not", group}:
        raise _Bad(f"{key} mixes {group} with other keys; nest them instead")
    items = spec[group]
    if not isinstance(items, list) or not items:
        raise _bad(f"{key}.{group}", items, "a non-empty list of conditions")
    children = tuple(_condition(f"{key}.{group}[{i}]", c, known) for i, c in enumerate(items))
    return ConditionSettings(key=key, group=group, children=children, negate=negate)


def _test(key: str, field: str, spec: dict[str, Any], known: Known) -> dict[str, Any]:
    """The pattern part of a field condition, checked for what that field needs."""
    if "header" in spec and field != "header":
        raise _Bad(f"{key}.header only goes with field = \"header\"")
    if "calendar" in spec and field != "hours":
        raise _Bad(f"{key}.calendar only goes with field = \"hours\"")
    if field in ("attachment", "abusive"):
        if "match" in spec or "regex" in spec:
            raise _Bad(f"{key}: field \"{field}\" takes no match or regex (use not = true)")
        return {}
    if field == "language":
        return _languages(key, spec)
    if field == "hours":
        match, calendar = spec.get("match"), spec.get("calendar", "")
        if match not in ("inside", "outside"):
            raise _bad(f"{key}.match", match, one_of(("inside", "outside")))
        if calendar not in {"", *known.calendars}:
            raise _bad(f"{key}.calendar", calendar, one_of(sorted({"", *known.calendars})))
        return {"patterns": (match,), "calendar": calendar}
    return _patterns(key, field, spec)


def _languages(key: str, spec: dict[str, Any]) -> dict[str, Any]:
    """`match` names the languages (en, uk, ru) the mail's words say it is written in."""
    value = spec.get("match")
    wanted = value if isinstance(value, list) else [value]
    if "regex" in spec or not wanted or not all(v in LANGUAGES for v in wanted):
        raise _bad(f"{key}.match", value, f"one of {', '.join(LANGUAGES)} or a list of them")
    return {"patterns": tuple(wanted)}


def _patterns(key: str, field: str, spec: dict[str, Any]) -> dict[str, Any]:
    if ("match" in spec) == ("regex" in spec):
        raise _Bad(f"{key} needs exactly one of match (plain text) or regex")
    case_sensitive = _flag(key, spec, "case_sensitive")
    kind = "regex" if "regex" in spec else "match"
    value = spec[kind]
    patterns = tuple(value) if isinstance(value, list) else (value,)
    if not patterns or not all(isinstance(p, str) and p for p in patterns):
        raise _bad(f"{key}.{kind}", value, "a non-empty string or list of non-empty strings")
    for pattern in patterns if kind == "regex" else ():
        try:
            re.compile(pattern, 0 if case_sensitive else re.IGNORECASE)
        except re.error as exc:
            raise _Bad(f"{key}.regex = {pattern!r} is not a valid regular expression: {exc}") from None
    header = spec.get("header") if field == "header" else ""
    if not isinstance(header, str) or (field == "header" and not _HEADER.fullmatch(header)):
        raise _bad(f"{key}.header", header, "a header name such as X-Priority")
    return {"patterns": patterns, "regex": kind == "regex", "case_sensitive": case_sensitive,
            "header": header}


def _flag(key: str, spec: dict[str, Any], name: str) -> bool:
    value = spec.get(name, False)
    if not isinstance(value, bool):
        raise _bad(f"{key}.{name}", value, "true or false")
    return value
