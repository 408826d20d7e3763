"""The hash chain, as pure functions: each record's hash covers its content and the previous hash.

Changing, deleting or reordering any record breaks the chain at that record, and `verify_chain` names it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64
HASHED_FIELDS = ("seq", "occurred_at", "actor", "action", "entity_type", "entity_id", "region_code", "data")


def canonical(fields: Mapping[str, Any]) -> bytes:
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode()


def record_hash(fields: Mapping[str, Any], prev_hash: str) -> str:
    content = {name: fields[name] for name in HASHED_FIELDS}
    return hashlib.sha256(prev_hash.encode() + b"|" + canonical(content)).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str | None = None


def verify_chain(records: Iterable[Mapping[str, Any]], *, head: tuple[int, str] | None = None) -> ChainReport:
    """Walk records in storage order; `head` is the (seq, hash) the log says it ends at."""
    prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    for record in records:
        seq = int(record["seq"])
        if seq != expected_seq:
            reason = "missing" if seq > expected_seq else "out of order"
            return ChainReport(False, checked, expected_seq, f"record {expected_seq} is {reason}")
        if record["prev_hash"] != prev_hash:
            return ChainReport(False, checked, seq, "previous-hash link does not match")
        if record_hash(record, prev_hash) != record["hash"]:
            return ChainReport(False, checked, seq, "content does not match its hash")
        prev_hash, expected_seq, checked = record["hash"], seq + 1, checked + 1
    if head is not None and head != (expected_seq - 1, prev_hash):
        return ChainReport(False, checked, head[0], "the log ends before its recorded head")
    return ChainReport(True, checked)
