"""A consumer process that dies in the middle of handling one message (used by tests/core/test_bus_nats.py).

    python nats_crash_consumer.py --mode after-commit ...   commits the effect, then dies before the ack
    python nats_crash_consumer.py --mode before-commit ...  writes the effect, then dies before the commit

It exits with status 1 through os._exit (no cleanup, no ack, like a killed process), or with status 3 when no
message arrived in time. The effect table and the apply function are shared with the test, which imports
this file by path.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from sqlalchemy import text

SRC = Path(__file__).resolve().parents[2] / "src"
try:
    import cityops  # noqa: F401
except ImportError:
    sys.path.insert(0, str(SRC))

from cityops.core.bus.base import Message  # noqa: E402
from cityops.core.bus.nats import NatsBus  # noqa: E402
from cityops.core.clock import SystemClock  # noqa: E402
from cityops.core.consumers import idempotent_handler  # noqa: E402
from cityops.core.db import Database  # noqa: E402
from cityops.core.uow import UnitOfWork  # noqa: E402

CONSUMER = "crash-test-consumer"
EFFECT_DDL = ("CREATE TABLE IF NOT EXISTS bus_test_effects "
              "(message_key TEXT NOT NULL, delivery INTEGER NOT NULL, title TEXT NOT NULL)")


def create_effect_table(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(EFFECT_DDL))


def apply_effect(uow: UnitOfWork, message: Message) -> None:
    """The effect of one message: one row. Deliberately not idempotent by itself (no unique key)."""
    uow.session.execute(
        text("INSERT INTO bus_test_effects (message_key, delivery, title) VALUES (:k, :d, :t)"),
        {"k": message.key, "d": message.delivery, "t": message.payload.get("title", "")},
    )


def _crash(reason: str) -> None:
    print(f"crashing: {reason}", flush=True)
    os._exit(1)


async def run(args: argparse.Namespace) -> int:
    db = Database(args.db)
    clock = SystemClock()

    def apply(uow: UnitOfWork, message: Message) -> None:
        apply_effect(uow, message)
        if args.mode == "before-commit":
            uow.session.flush()
            _crash(f"before commit, delivery {message.delivery}")

    inner = idempotent_handler(db, clock, CONSUMER, apply)

    async def handler(message: Message) -> None:
        await inner(message)  # the transaction is committed when this returns
        _crash(f"after commit, before ack, delivery {message.delivery}")

    bus = NatsBus(args.url, connect_timeout_s=5, ack_wait_s=args.ack_wait, max_deliver=5,
                  stream=args.stream, subjects=[args.stream_subjects])
    await bus.subscribe(args.subject, durable=args.durable, handler=handler)
    await asyncio.sleep(args.wait)  # the handler ends the process long before this
    await bus.close()
    print("no message arrived", flush=True)
    return 3


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--stream", required=True)
    parser.add_argument("--stream-subjects", required=True)
    parser.add_argument("--subject", required=True)
    parser.add_argument("--durable", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--mode", choices=["after-commit", "before-commit"], required=True)
    parser.add_argument("--ack-wait", type=float, default=1.0)
    parser.add_argument("--wait", type=float, default=15.0)
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
