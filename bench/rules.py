"""Time rule evaluation for one new mail with 200 rules, against the 1 ms target of issue #5.

Run from the repository root:  .venv/bin/python bench/rules.py [--rules 200] [--rounds 300]

Measures `Routing.evaluate` (facts from the parsed mail, working-hours flags of
every calendar, queue routing and the walk over all rules), which is what the
pipeline pays per mail; parsing the mail is not counted. Prints per-mail mean
and p99 in microseconds and their ratio to the target. Not a timed test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # Run as a script from anywhere: make maildesk importable.

from maildesk import config  # noqa: E402
from maildesk.mail.parse import ParsedMail, parse_message  # noqa: E402
from maildesk.notices.render import Renderer  # noqa: E402
from maildesk.pipeline.routing import Routing  # noqa: E402

TARGET_US = 1000.0
WORDS = ["принтер", "не працює", "не работает", "invoice", "пароль", "vpn", "wi-fi", "excel", "urgent", "toner"]


def _condition(i: int) -> str:
    """A mix like a real rule set: mostly text tests, some headers, addresses, groups and hours."""
    word = WORDS[i % len(WORDS)] + str(i)  # distinct needles, so most rules miss as in real life
    kinds = [
        f'{{ field = "subject", match = "{word}" }}',
        f'{{ field = "body", regex = "{word}\\\\b" }}',
        f'{{ field = "text", match = ["{word}", "{word}x"] }}',
        f'{{ field = "header", header = "X-Custom-{i}", match = "yes" }}',
        f'{{ field = "from_domain", match = "client{i}.example" }}',
        f'{{ any = [{{ field = "to_cc", match = "q{i}@example.org" }}, {{ field = "attachment" }}] }}',
        f'{{ all = [{{ field = "body", regex = "{word}" }}, {{ field = "hours", match = "outside" }}] }}',
        f'{{ field = "subject", regex = "^(re|fwd):.*{word}", not = true }}',
    ]
    return kinds[i % len(kinds)]


def build_config(rules: int) -> str:
    """A config with three queues, two calendars and `rules` rules."""
    head = """
[calendars.office]
tz = "Europe/Kyiv"
hours = { "mon-fri" = "09:00-18:00" }
holidays_country = "UA"
[[queues]]
name = "general"
addresses = ["support@example.org", "info@example.org"]
[[queues]]
name = "billing"
addresses = ["billing@example.org"]
calendar = "office"
[[queues]]
name = "services"
addresses = ["services@example.org"]
calendar = "office"
[[categories]]
name = "hardware"
"""
    body = "".join(f'[[rules]]\nname = "r{i}"\nwhen = {_condition(i)}\nthen = {{ tags = ["t{i % 7}"] }}\n'
                   for i in range(rules))
    return head + body


def mails() -> list[ParsedMail]:
    """The example mails plus a long Ukrainian one (a 20 KB body)."""
    found = [parse_message(p.read_bytes()) for p in sorted((REPO / "examples").glob("*.eml"))]
    long_body = ("Доброго дня! Принтер у бухгалтерії не працює, на екрані помилка 49. " * 300).encode()
    raw = (b"From: a@b.example\r\nTo: services@example.org\r\nSubject: =?utf-8?b?"
           + __import__("base64").b64encode("Не працює принтер".encode()) + b"?=\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + long_body)
    return [*found, parse_message(raw)]


def main() -> None:
    """Print per-mail timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    data = tomllib.loads(build_config(args.rules))
    settings = config.routing_settings(Path("bench.conf"), data, {"importance_high": True})
    routing = Routing.from_settings(_settings(settings), Renderer(), datetime.now(UTC).date())
    sample = mails()
    start = datetime(2026, 11, 21, 21, 30, tzinfo=UTC)
    times: list[list[float]] = [[] for _ in sample]
    for r in range(args.rounds):
        at = start + timedelta(minutes=37 * r)  # vary the instant so calendar caches are exercised too
        for i, mail in enumerate(sample):
            t0 = time.perf_counter()
            routing.evaluate(mail, ("services@example.org",), at)
            times[i].append((time.perf_counter() - t0) * 1e6)
    print(f"{len(routing.ruleset.rules)} rules (incl. the importance rule), {len(sample)} mails x "
          f"{args.rounds} rounds")
    _report("example mails", [t for ts in times[:-1] for t in ts])
    _report("20 KB body", times[-1])
    _report("all", [t for ts in times for t in ts])


def _report(label: str, times: list[float]) -> None:
    times = sorted(times)
    mean, p99 = statistics.fmean(times), times[max(0, int(len(times) * 0.99) - 1)]
    print(f"{label:<14} mean {mean:7.1f} µs  p99 {p99:7.1f} µs  max {times[-1]:7.1f} µs  "
          f"ratio to 1 ms: mean {mean / TARGET_US:.3f}, p99 {p99 / TARGET_US:.3f}")


def _settings(routing: config.RoutingSettings) -> config.Settings:
    """Full settings around the bench's routing (the desk part is irrelevant to the timing)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "maildesk.conf"
        path.write_text('[desk]\naddress = "support@example.org"\n', encoding="utf-8")
        base = config.load(path)
    from dataclasses import replace

    return replace(base, routing=routing)


if __name__ == "__main__":
    main()
