"""CPU time per message for each stage of the pipeline, in one process, without SMTP.

    .venv/bin/python bench/pipeline_cpu.py [-n 500] [--agents 2] [--profile]

Stores N generated requests with `accept_raw`, processes each, and delivers its
outbox rows into a Maildir, on a fresh SQLite database. Reports CPU
milliseconds per message for each stage (process CPU time, so other load on
the machine barely changes the figures) and the implied ceiling in messages per
second for one core. `--profile` prints the 30 most expensive maildesk
functions.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import message

from maildesk import config
from maildesk.admin import agents
from maildesk.arrival.intake import accept_raw
from maildesk.domain import Envelope
from maildesk.runtime.wiring import Runtime, utcnow
from maildesk.store import migrate
from maildesk.store.db import Database


def build(work: Path, agent_count: int) -> Runtime:
    conf = work / "maildesk.conf"
    # Every request comes from one domain: the answer brakes are raised out of the way, as in bench/ingest.py.
    conf.write_text('[desk]\naddress = "support@example.org"\n[log]\nlevel = "WARNING"\n[brakes]\n'
                    "answers_per_domain_per_hour = 1000000\nanswers_per_client_per_hour = 1000000\n"
                    "answers_per_fingerprint_per_day = 1000000\n")
    settings = config.load(conf)
    migrate.upgrade(Database(settings.database.url))
    rt = Runtime.build(settings)
    for i in range(agent_count):
        agents.add_agent(rt.db, f"agent{i}@example.org", f"Agent {i}", utcnow())
    return rt


def run(rt: Runtime, mails: list[bytes]) -> tuple[float, float, float]:
    totals = [0.0, 0.0, 0.0]
    envelope = Envelope("user@client.example", ("support@example.org",), "bench")
    for raw in mails:
        a = time.process_time()
        accepted = accept_raw(rt.db, raw, envelope, utcnow(), 10**7)
        b = time.process_time()
        outcome = rt.process(accepted.inbound_id)
        c = time.process_time()
        for outbox_id in outcome.outbox_ids:
            rt.deliver(outbox_id)
        d = time.process_time()
        totals[0] += b - a
        totals[1] += c - b
        totals[2] += d - c
    accept, process, deliver = (t / len(mails) * 1000 for t in totals)
    return accept, process, deliver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--count", type=int, default=500)
    parser.add_argument("--agents", type=int, default=0, help="active agents, each notified per request")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rt = build(Path(tmp), args.agents)
        mails = [message(i) for i in range(args.count)]
        run(rt, mails[:50])  # warm up caches, templates and the pool
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        accept, process, deliver = run(rt, mails[50:])
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats("maildesk", 30)
    total = accept + process + deliver
    print(f"messages: {args.count - 50} (after 50 to warm up), agents notified per request: {args.agents}")
    print(f"CPU ms per message: accept {accept:.2f}, process {process:.2f}, deliver {deliver:.2f}, "
          f"total {total:.2f}")
    print(f"one-core ceiling without SMTP: {1000 / total:.0f} msg/s")


if __name__ == "__main__":
    main()
