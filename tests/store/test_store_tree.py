"""The section tree: costs per path rolled up along agent -> step -> tool (pure)."""

from __future__ import annotations

from llmobserve_otel.store._tree import NO_SECTION, section_tree


def row(path: str, cost: float, calls: int = 1, tokens: int = 0) -> dict:
    return {"key": path, "cost_usd": cost, "calls": calls, "input_tokens": tokens, "output_tokens": 0}


def test_rolls_costs_up_every_prefix() -> None:
    tree = section_tree(
        [
            row("agent:research/step:plan", 0.1, tokens=10),
            row("agent:research/step:plan/tool:search", 0.2, calls=2, tokens=20),
            row("agent:research/step:write", 0.05),
            row("agent:index", 0.7),
            row("", 0.0),
        ]
    )
    assert [(n["name"], n["cost_usd"], n["calls"]) for n in tree] == [
        ("agent:index", 0.7, 1),
        ("agent:research", 0.35, 4),  # 0.1 + 0.2 + 0.05, exactly
        (NO_SECTION, 0.0, 1),
    ]
    research = tree[1]
    assert (research["kind"], research["path"], research["self_cost_usd"], research["input_tokens"]) == (
        "agent",
        "agent:research",
        0.0,
        30,
    )
    plan, write = research["children"]
    assert (plan["name"], plan["cost_usd"], plan["self_cost_usd"], plan["self_calls"]) == (
        "step:plan",
        0.3,
        0.1,
        1,
    )
    assert (write["name"], write["cost_usd"]) == ("step:write", 0.05)
    (search,) = plan["children"]
    assert search == {
        "name": "tool:search",
        "path": "agent:research/step:plan/tool:search",
        "kind": "tool",
        "cost_usd": 0.2,
        "self_cost_usd": 0.2,
        "calls": 2,
        "input_tokens": 20,
        "output_tokens": 0,
        "cache_read_tokens": 0,
        "cache_creation_tokens": 0,
        "reasoning_tokens": 0,
        "unpriced_calls": 0,
        "self_calls": 2,
        "children": [],
    }


def test_empty() -> None:
    assert section_tree([]) == []
