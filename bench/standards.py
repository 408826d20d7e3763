"""Cost of the Chinese standards checks on good values, the path a clean import takes millions of times.

Prints one JSON object: microseconds per call for each standard (bound through checker(), as imports do) and
the projected seconds to check one million rows holding one field of each standard.

    python bench/standards.py [--values 200000]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import date, timedelta

from machine import machine  # bench/ is on sys.path when a benchmark runs as a script

from cityops.datahub import identifiers
from cityops.datahub.standards import CREDIT_CODE_ALPHABET, checker

TODAY = date(2026, 3, 1)
DISTRICTS = ("370302", "370303", "370304", "370305", "370306", "370321", "370322", "370323")


def good_values(count: int) -> dict[str, list[str]]:
    rng = random.Random(1)
    birth = [TODAY - timedelta(days=rng.randrange(36_000)) for _ in range(count)]
    return {
        "resident_id": [identifiers.resident_id(rng.choice(DISTRICTS), b, rng.randrange(1000)) for b in birth],
        "credit_code": [identifiers.credit_code("9", "1", rng.choice(DISTRICTS), identifiers.organisation_code(
            "".join(rng.choices(CREDIT_CODE_ALPHABET, k=8)))) for _ in range(count)],
        "mobile": [f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}" for _ in range(count)],
        "landline": [f"0533-{rng.randrange(2_000_000, 9_999_999)}" for _ in range(count)],
        "phone": [f"13{rng.randrange(10**9):09d}" if rng.random() < 0.7
                  else f"0533{rng.randrange(2_000_000, 9_999_999)}" for _ in range(count)],
        "adcode": [f"{rng.choice(DISTRICTS)}{rng.randrange(1, 20):03d}" for _ in range(count)],
        "date": [b.isoformat() for b in birth],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--values", type=int, default=200_000)
    args = parser.parse_args()
    region_codes = frozenset(DISTRICTS) | {f"{d}{n:03d}" for d in DISTRICTS for n in range(1, 20)}
    per_call_us: dict[str, float] = {}
    for name, values in good_values(args.values).items():
        check = checker(name, region_codes=region_codes, today=TODAY)
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            for value in values:
                if check(value) is not None:
                    raise SystemExit(f"{name}: a generated value failed: {value} {check(value)}")
            best = min(best, time.perf_counter() - started)
        per_call_us[name] = round(best / len(values) * 1e6, 3)
    print(json.dumps({
        "benchmark": "datahub.standards",
        "values_per_standard": args.values,
        "us_per_call": per_call_us,
        "projected_s_per_million_rows_all_fields": round(sum(per_call_us.values()), 2),
        "machine": machine(),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
