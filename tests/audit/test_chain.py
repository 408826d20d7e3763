"""The hash chain as pure functions: any change, deletion or reordering is caught and named."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cityops.audit.chain import GENESIS_HASH, record_hash, verify_chain


def build_chain(n: int) -> list[dict[str, Any]]:
    records, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        fields: dict[str, Any] = {
            "seq": seq, "occurred_at": f"2026-11-22T0{seq % 10}:00:00+00:00", "actor": "staff:1:admin",
            "action": "case.dispatched", "entity_type": "case", "entity_id": str(seq), "region_code": "370303001",
            "data": {"说明": f"第{seq}条", "n": seq},
        }
        fields["prev_hash"] = prev
        fields["hash"] = prev = record_hash(fields, prev)
        records.append(fields)
    return records


def test_intact_chain_verifies_with_its_head():
    chain = build_chain(5)
    report = verify_chain(chain, head=(5, chain[-1]["hash"]))
    assert report.ok and report.checked == 5


def test_empty_log_is_intact():
    assert verify_chain([], head=(0, GENESIS_HASH)).ok


@given(st.integers(min_value=1, max_value=8), st.data())
def test_changing_any_field_of_any_record_names_that_record(n, data):
    chain = build_chain(n)
    victim = data.draw(st.integers(min_value=0, max_value=n - 1))
    field = data.draw(st.sampled_from(["actor", "action", "entity_id", "region_code", "occurred_at"]))
    chain[victim][field] = str(chain[victim][field]) + "x"
    report = verify_chain(chain, head=(n, chain[-1]["hash"]))
    assert not report.ok
    assert report.broken_seq == victim + 1


def test_changing_nested_data_is_caught():
    chain = build_chain(3)
    chain[1]["data"]["n"] = 99
    assert verify_chain(chain).broken_seq == 2


@given(st.integers(min_value=2, max_value=8), st.data())
def test_deleting_a_record_names_the_missing_seq(n, data):
    chain = build_chain(n)
    victim = data.draw(st.integers(min_value=0, max_value=n - 2))
    del chain[victim]
    report = verify_chain(chain, head=(n, build_chain(n)[-1]["hash"]))
    assert not report.ok and report.broken_seq == victim + 1


def test_deleting_the_last_record_is_caught_by_the_head():
    chain = build_chain(4)
    head = (4, chain[-1]["hash"])
    report = verify_chain(chain[:-1], head=head)
    assert not report.ok and report.broken_seq == 4


def test_swapping_two_records_is_caught():
    chain = build_chain(4)
    chain[1], chain[2] = chain[2], chain[1]
    report = verify_chain(chain)
    assert not report.ok and report.broken_seq == 2


def test_rehashing_a_changed_record_still_breaks_the_next_link():
    chain = build_chain(4)
    chain[1]["actor"] = "staff:2:intruder"
    chain[1]["hash"] = record_hash(chain[1], chain[1]["prev_hash"])
    report = verify_chain(chain)
    assert not report.ok and report.broken_seq == 3
