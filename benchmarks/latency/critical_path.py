"""The arithmetic of the latency benchmark, pure functions: which step made each request, what each asset
costs by the issue's model, the longest chain through the asset graph, and the time no step was running."""

import math
from collections.abc import Iterable
from dataclasses import dataclass

# Calls of one asset to these roles wait for each other: a chapter's memory feeds the next chapter, a
# script repair follows the answer it repairs. Other roles' calls are independent, MAX_IN_FLIGHT at once.
SEQUENTIAL_ROLES = frozenset({"text"})
GOAL = 1.15  # issue 15: submit -> SUCCESS at most GOAL x the critical path + the orchestration overhead


@dataclass(frozen=True)
class Call:
    """One request a fake provider answered: its role, when it arrived (epoch s) and its modelled latency."""

    role: str
    at: float
    seconds: float
    tokens: int = 0


@dataclass(frozen=True)
class Step:
    """One step of the run from its event log: first STEP_START to its final STEP_SUCCESS (epoch s)."""

    key: str
    start: float
    end: float
    attempts: int = 1

    @property
    def seconds(self) -> float:
        return self.end - self.start


def attribute(calls: Iterable[Call], steps: dict[str, Step], roles_of: dict[str, set[str]]) -> dict[str, list[Call]]:
    """Each call given to the step that uses its role and was running when it arrived (unmatched: key '?')."""
    found: dict[str, list[Call]] = {}
    for call in calls:
        owner = next((key for key, step in steps.items()
                      if call.role in roles_of.get(key, set()) and step.start <= call.at <= step.end), "?")
        found.setdefault(owner, []).append(call)
    return found


def asset_cost(calls: list[Call], max_in_flight: dict[str, int]) -> float:
    """The issue's model of an asset: ceil(items / MAX_IN_FLIGHT of the role) x latency per item, per role;
    the sum of the calls for sequential roles."""
    cost = 0.0
    for role in sorted({c.role for c in calls}):
        mine = [c.seconds for c in calls if c.role == role]
        if role in SEQUENTIAL_ROLES:
            cost += sum(mine)
        else:
            cost += math.ceil(len(mine) / max_in_flight[role]) * max(mine)
    return cost


def longest_chain(cost: dict[str, float], parents: dict[str, set[str]]) -> tuple[float, list[str]]:
    """The costliest path through the graph (assets missing from `cost` cost nothing): its cost and its assets."""
    finish: dict[str, tuple[float, list[str]]] = {}

    def visit(key: str) -> tuple[float, list[str]]:
        if key not in finish:
            before = max((visit(p) for p in parents.get(key, set())), default=(0.0, []), key=lambda x: x[0])
            finish[key] = (before[0] + cost.get(key, 0.0), [*before[1], key])
        return finish[key]

    return max((visit(k) for k in parents), key=lambda x: x[0])


def covered(intervals: Iterable[tuple[float, float]]) -> float:
    """Seconds during which at least one of the intervals is running."""
    total, end = 0.0, -math.inf
    for a, b in sorted(intervals):
        if b > end:
            total += b - max(a, end)
            end = b
    return total
