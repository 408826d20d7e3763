"""The case workflow as one table: which action moves a case from which states to which, who may do it, and
what it needs. Pure data and pure checks; flows.py applies them inside a transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from cityops.org.roles import Role


class State(StrEnum):
    RECEIVED = "received"  # 受理
    REGISTERED = "registered"  # 立案
    REJECTED = "rejected"  # 不予立案
    DISPATCHED = "dispatched"  # 派遣
    RETURNED = "returned"  # 退回
    IN_PROGRESS = "in_progress"  # 处置中
    HANDLED = "handled"  # 已处置
    REWORKED = "reworked"  # 返工
    VERIFIED = "verified"  # 核查通过
    CLOSED = "closed"  # 结案
    FOLLOWED_UP = "followed_up"  # 回访
    MERGED = "merged"  # 已合并: a duplicate, its reports moved to the case it was merged into


STATE_LABELS: dict[State, tuple[str, str]] = {
    State.RECEIVED: ("受理", "Received"),
    State.REGISTERED: ("立案", "Registered"),
    State.REJECTED: ("不予立案", "Rejected"),
    State.DISPATCHED: ("派遣", "Dispatched"),
    State.RETURNED: ("退回", "Returned"),
    State.IN_PROGRESS: ("处置中", "In progress"),
    State.HANDLED: ("已处置", "Handled"),
    State.REWORKED: ("返工", "Reworked"),
    State.VERIFIED: ("核查通过", "Verified"),
    State.CLOSED: ("结案", "Closed"),
    State.FOLLOWED_UP: ("回访", "Followed up"),
    State.MERGED: ("已合并", "Merged"),
}

# States in which the city still owes the reporter something.
OPEN_STATES = frozenset({State.RECEIVED, State.REGISTERED, State.DISPATCHED, State.RETURNED, State.IN_PROGRESS,
                         State.HANDLED, State.REWORKED, State.VERIFIED})
FINAL_STATES = frozenset({State.REJECTED, State.CLOSED, State.FOLLOWED_UP, State.MERGED})
# States in which a department holds the case (its handling clock runs, it may ask for more time).
DEPARTMENT_STATES = frozenset({State.DISPATCHED, State.IN_PROGRESS, State.REWORKED})


class Action(StrEnum):
    REGISTER = "register"  # 立案
    REJECT = "reject"  # 不予立案
    DISPATCH = "dispatch"  # 派遣 (also re-dispatch after a return)
    RETURN = "return"  # 退回
    ACCEPT = "accept"  # 签收
    HANDLE = "handle"  # 处置完成
    VERIFY = "verify"  # 核查通过
    REWORK = "rework"  # 返工
    CLOSE = "close"  # 结案
    FOLLOW_UP = "follow_up"  # 回访
    REOPEN = "reopen"  # 重新办理
    REQUEST_EXTENSION = "request_extension"  # 申请延期
    DECIDE_EXTENSION = "decide_extension"  # 审批延期
    SUSPEND = "suspend"  # 挂账
    RESUME = "resume"  # 取消挂账
    ESCALATE = "escalate"  # 督办
    COMPLETE_ASSIST = "complete_assist"  # 协办部门完成
    MERGE = "merge"  # 合并: this case is a duplicate of another (cases/merge.py moves its reports there)
    RECLASSIFY = "reclassify"  # 改类: a registered case was put in the wrong category


@dataclass(frozen=True)
class Rule:
    action: Action
    sources: frozenset[State]
    target: State | None  # None: the state stays (extension, suspension, escalation…)
    roles: frozenset[Role]
    requires: tuple[str, ...] = field(default=())  # names of fields the command must carry
    department_only: bool = False  # only staff of the department holding the case
    allowed_when_suspended: bool = False


_DISPATCH = frozenset({Role.DISPATCHER, Role.ADMIN})
_HANDLER = frozenset({Role.HANDLER})
_VERIFIER = frozenset({Role.DISPATCHER, Role.GRID_WORKER, Role.ADMIN})
_SUPERVISOR = frozenset({Role.DISPATCHER, Role.LEADER, Role.ADMIN})

RULES: dict[Action, Rule] = {r.action: r for r in [
    Rule(Action.REGISTER, frozenset({State.RECEIVED}), State.REGISTERED, _DISPATCH, ("category_code",)),
    Rule(Action.REJECT, frozenset({State.RECEIVED}), State.REJECTED, _DISPATCH, ("reason",)),
    Rule(Action.DISPATCH, frozenset({State.REGISTERED, State.RETURNED}), State.DISPATCHED, _DISPATCH,
         ("department_id",)),
    Rule(Action.RETURN, frozenset({State.DISPATCHED}), State.RETURNED, _HANDLER, ("reason",), department_only=True),
    Rule(Action.ACCEPT, frozenset({State.DISPATCHED, State.REWORKED}), State.IN_PROGRESS, _HANDLER,
         department_only=True),
    Rule(Action.HANDLE, frozenset({State.IN_PROGRESS}), State.HANDLED, _HANDLER, ("result", "photos"),
         department_only=True),
    Rule(Action.VERIFY, frozenset({State.HANDLED}), State.VERIFIED, _VERIFIER),
    Rule(Action.REWORK, frozenset({State.HANDLED}), State.REWORKED, _VERIFIER, ("reason",)),
    Rule(Action.CLOSE, frozenset({State.VERIFIED}), State.CLOSED, _DISPATCH),
    Rule(Action.FOLLOW_UP, frozenset({State.CLOSED}), State.FOLLOWED_UP,
         frozenset({Role.DISPATCHER, Role.ADMIN, Role.CITIZEN}), ("resolved", "satisfaction")),
    Rule(Action.REOPEN, frozenset({State.CLOSED, State.FOLLOWED_UP}), State.REGISTERED, _DISPATCH, ("reason",)),
    Rule(Action.REQUEST_EXTENSION, DEPARTMENT_STATES, None, _HANDLER, ("reason", "hours"), department_only=True),
    Rule(Action.DECIDE_EXTENSION, DEPARTMENT_STATES, None, _DISPATCH, ("approved",)),
    Rule(Action.SUSPEND, OPEN_STATES, None, _DISPATCH, ("reason",)),
    Rule(Action.RESUME, OPEN_STATES, None, _DISPATCH, allowed_when_suspended=True),
    Rule(Action.ESCALATE, OPEN_STATES, None, _SUPERVISOR, ("reason",), allowed_when_suspended=True),
    Rule(Action.COMPLETE_ASSIST, frozenset({State.DISPATCHED, State.IN_PROGRESS, State.REWORKED}), None, _HANDLER,
         ("result",)),
    Rule(Action.MERGE, OPEN_STATES, State.MERGED, _DISPATCH, ("reason",)),
    # Before a department holds it: once dispatched, the department returns a wrongly classified case.
    Rule(Action.RECLASSIFY, frozenset({State.REGISTERED, State.RETURNED}), None, _DISPATCH,
         ("category_code", "reason")),
]}


def refusal(rule: Rule, *, state: State, role: Role, suspended: bool, given: set[str]) -> str | None:
    """Why this action may not happen now, or None when it may (role and state; scope is checked elsewhere)."""
    if role not in rule.roles:
        return f"role {role.value} may not {rule.action.value}"
    if state not in rule.sources:
        return f"cannot {rule.action.value} a case that is {state.value}"
    if suspended and not rule.allowed_when_suspended and rule.action is not Action.RESUME:
        return "the case is suspended (挂账); resume it first"
    if rule.action is Action.RESUME and not suspended:
        return "the case is not suspended"
    missing = [name for name in rule.requires if name not in given]
    if missing:
        return f"{rule.action.value} needs {', '.join(missing)}"
    return None
