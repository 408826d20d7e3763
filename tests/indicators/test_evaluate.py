"""The evaluation as a table of scenarios, plus properties over any sequence of values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.core.errors import ValidationFailed
from cityops.indicators.evaluate import Rule, State, ThresholdSet, evaluate, rank

T0 = datetime(2026, 7, 20, 2, 0, tzinfo=UTC)

# 孝妇河 gauge: yellow 3.2 m, orange 3.6 m, red 4.0 m; each clears 0.2 m below its line.
RIVER = ThresholdSet((
    Rule("yellow", "above", 3.2, 3.0), Rule("orange", "above", 3.6, 3.4), Rule("red", "above", 4.0, 3.8)))
# Above 3.2 m for 10 minutes (readings every minute).
SUSTAINED = ThresholdSet((Rule("yellow", "above", 3.2, 3.0, duration_s=600),))
# Manhole tilt: 5 readings in a row at or over 15°.
REPEATED = ThresholdSet((Rule("orange", "above", 15.0, 10.0, repetitions=5),))
# Dissolved oxygen falls: below-lines, blue at 5 mg/L, red at 2 mg/L.
OXYGEN = ThresholdSet((Rule("blue", "below", 5.0, 5.5), Rule("red", "below", 2.0, 3.0)))


def run(thresholds: ThresholdSet, values: list[float], step_s: float = 60) -> list[str]:
    state, levels = State(), []
    for i, value in enumerate(values):
        state, result = evaluate(thresholds, state, T0 + timedelta(seconds=i * step_s), value)
        levels.append(result.level)
    return levels


N, Y, OR, R, B = "none", "yellow", "orange", "red", "blue"

SCENARIOS = [
    ("normal stays none", RIVER, [2.0, 2.5, 3.1], [N, N, N]),
    ("hovering at the line does not flap", RIVER, [3.2, 3.19, 3.21, 3.15, 3.2, 3.05], [Y] * 6),
    ("clears only past the clear line", RIVER, [3.3, 3.0, 2.99], [Y, Y, N]),
    ("steps up yellow → orange → red, then falls", RIVER, [3.3, 3.7, 4.1, 3.9, 3.7, 3.3, 2.9],
     [Y, OR, R, R, OR, Y, N]),
    ("jumps straight to red and straight back to none", RIVER, [4.5, 2.0], [R, N]),
    ("falls from red into the yellow band keeps yellow", RIVER, [4.2, 3.1], [R, Y]),
    ("spike shorter than the duration raises nothing", SUSTAINED, [3.5, 3.5, 3.5, 2.5, 3.5], [N, N, N, N, N]),
    ("sustained for the duration raises", SUSTAINED, [3.3] * 12, [N] * 10 + [Y, Y]),
    ("a dip in the hysteresis band restarts the duration", SUSTAINED, [3.3] * 6 + [3.1] + [3.3] * 11,
     [N] * 17 + [Y]),
    ("five in a row raise", REPEATED, [16, 16, 16, 16, 16, 16], [N, N, N, N, OR, OR]),
    ("repetition broken by one normal reading", REPEATED, [16, 16, 16, 16, 9, 16, 16, 16, 16],
     [N, N, N, N, N, N, N, N, N]),
    ("held past the line until the clear line", REPEATED, [16] * 5 + [12, 14, 9.9], [N] * 4 + [OR, OR, OR, N]),
    ("below-thresholds step down and recover", OXYGEN, [6, 4.9, 1.5, 2.5, 3.5, 5.2, 5.6], [N, B, R, R, B, B, N]),
]


@pytest.mark.parametrize(("name", "thresholds", "values", "expected"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_scenarios(name: str, thresholds: ThresholdSet, values: list[float], expected: list[str]):
    assert run(thresholds, values) == expected, name


def test_result_says_why_and_what_changed():
    state, first = evaluate(RIVER, State(), T0, 3.7)
    assert (first.level, first.previous, first.changed) == ("orange", "none", True)
    assert "≥ 3.6" in first.reason and first.reason.index("橙色") < first.reason.index("orange")
    _, second = evaluate(RIVER, state, T0 + timedelta(minutes=1), 3.5)
    assert (second.level, second.changed) == ("orange", False)
    assert "3.4" in second.reason  # held: names the clear line it must go past


def test_stale_or_repeated_reading_changes_nothing():
    state, _ = evaluate(RIVER, State(), T0, 4.1)
    again, result = evaluate(RIVER, state, T0, 1.0)
    assert again == state and result.level == "red" and not result.changed


def test_state_survives_storage():
    state = State()
    for i, value in enumerate([16, 16, 16]):
        state, _ = evaluate(REPEATED, state, T0 + timedelta(minutes=i), value)
    restored = State.from_dict(state.to_dict())
    assert restored == state
    _, result = evaluate(REPEATED, restored, T0 + timedelta(minutes=3), 16)
    assert result.level == "none"  # four in a row so far, not five


@pytest.mark.parametrize("rules", [
    (),
    (Rule("yellow", "above", 3.2, 3.4),),  # clear line on the wrong side
    (Rule("yellow", "above", 3.2, 3.0), Rule("red", "above", 3.0, 2.8)),  # red below yellow
    (Rule("yellow", "above", 3.2, 3.0), Rule("red", "below", 1.0, 1.2)),  # mixed directions
    (Rule("yellow", "above", 3.2, 3.0), Rule("yellow", "above", 3.5, 3.0)),  # a level twice
    (Rule("yellow", "above", 3.2, 3.0, repetitions=0),),
])
def test_inconsistent_thresholds_are_refused(rules: tuple[Rule, ...]):
    with pytest.raises(ValidationFailed):
        ThresholdSet(rules)


# --- properties -----------------------------------------------------------------------------------

values = st.lists(st.floats(min_value=0, max_value=6, allow_nan=False), min_size=1, max_size=60)


@settings(max_examples=200, deadline=None)
@given(values)
def test_never_flaps_more_than_the_hysteresis_allows(series: list[float]):
    """With one level, each raise needs a full swing: from past the clear line (or the start) to the line."""
    single = ThresholdSet((Rule("yellow", "above", 3.2, 3.0),))
    levels = run(single, series)
    raises = sum(1 for before, after in zip(["none", *levels], levels, strict=False)
                 if before == "none" and after != "none")
    swings, armed = 0, True
    for value in series:
        if armed and value >= 3.2:
            swings, armed = swings + 1, False
        elif value < 3.0:
            armed = True
    assert raises == swings


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0, max_value=6, allow_nan=False), st.integers(min_value=1, max_value=20))
def test_a_constant_value_gives_a_constant_level_after_the_duration(value: float, extra: int):
    thresholds = ThresholdSet((Rule("yellow", "above", 3.2, 3.0, duration_s=300, repetitions=3),
                               Rule("red", "above", 4.0, 3.8, duration_s=600)))
    levels = run(thresholds, [value] * (11 + extra))  # 10 minutes of one-minute readings, then more
    settled = levels[10:]
    expected = "red" if value >= 4.0 else "yellow" if value >= 3.2 else "none"
    assert settled == [expected] * len(settled)


@settings(max_examples=200, deadline=None)
@given(values)
def test_level_never_exceeds_what_the_value_has_reached(series: list[float]):
    levels = run(RIVER, series)
    peak = max(series)
    highest = max(rank(level) for level in levels)
    reached = [rank(rule.level) for rule in RIVER.rules if peak >= rule.value]
    assert highest == max(reached, default=0)
