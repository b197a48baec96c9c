"""Rolling per-section costs up the section hierarchy (agent -> step -> tool). Pure.

Each provider call carries the path of the sections it ran in (`agent:research/step:plan/
tool:search`). Given the cost per path, every prefix of a path becomes a node whose totals are its
own calls plus everything below it, so `agent:research` shows what the whole agent cost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from llmobserve_otel.store._queries import ROW_COUNTS

__all__ = ("NO_SECTION", "section_tree")

NO_SECTION = "(no section)"
"""Name of the node holding calls made outside any section."""


def _node(name: str, path: str) -> dict[str, Any]:
    kind, sep, _ = name.partition(":")
    return {
        "name": name,
        "path": path,
        "kind": kind if sep else "",
        "cost_usd": Decimal(0),
        "self_cost_usd": Decimal(0),
        **dict.fromkeys(ROW_COUNTS, 0),
        "self_calls": 0,
        "children": {},
    }


def section_tree(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Nested nodes from rows of `report_rows(by="section")` (key = section path).

    Each node: name, path, kind, cost_usd and counts rolled up over its subtree, self_cost_usd and
    self_calls for calls made directly in it, and children; siblings sorted by cost, highest first.
    """
    roots: dict[str, dict[str, Any]] = {}
    for row in rows:
        path = str(row.get("key") or "")
        parts = [p for p in path.split("/") if p] or [NO_SECTION]
        # Decimal via str: the rolled-up sums must equal the hand sums, not drift like floats.
        cost = Decimal(str(row.get("cost_usd") or 0))
        level = roots
        for depth, name in enumerate(parts):
            node_path = "/".join(parts[: depth + 1]) if path else ""
            node = level.get(name)
            if node is None:
                node = level[name] = _node(name, node_path)
            node["cost_usd"] += cost
            for count in ROW_COUNTS:
                node[count] += int(row.get(count) or 0)
            if depth == len(parts) - 1:
                node["self_cost_usd"] += cost
                node["self_calls"] += int(row.get("calls") or 0)
            level = node["children"]
    return _finish(roots)


def _finish(level: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    nodes = sorted(level.values(), key=lambda n: (-n["cost_usd"], n["name"]))
    for node in nodes:
        node["cost_usd"] = float(node["cost_usd"])
        node["self_cost_usd"] = float(node["self_cost_usd"])
        node["children"] = _finish(node["children"])
    return nodes
