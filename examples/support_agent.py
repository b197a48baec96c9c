"""A support agent for three customers: sections (agent -> step -> tool), OpenAI and Anthropic calls,
streaming. With OPENAI_API_KEY and ANTHROPIC_API_KEY set it calls the real APIs; `run_demo.py` points
it at the local provider simulator instead (no keys, no network).

    python examples/support_agent.py          # after llmobserve-otel collector is running
"""

from __future__ import annotations

import json
import os

import anthropic
import openai

import llmobserve_otel as lo

SIMULATED = os.environ.get("LLMOBSERVE_DEMO_SIMULATED") == "1"
TICKETS = {
    "acme": ["Our invoices show the wrong VAT rate.", "Export to CSV fails for large reports."],
    "globex": ["How do I rotate my API key?"],
    "initech": ["The dashboard is slow.", "Can we get SSO?", "Please delete user 42."],
}


def usage(**tokens: int) -> dict[str, str]:
    """On the simulator, ask for realistic token counts (a real API reports its own)."""
    return {"x-sim-usage": json.dumps(tokens)} if SIMULATED else {}


oai = openai.OpenAI()
claude = anthropic.Anthropic()


@lo.section("tool:search_docs")
def search_docs(question: str) -> list[float]:
    result = oai.embeddings.create(
        model="text-embedding-3-small", input=[question], extra_headers=usage(input_tokens=800)
    )
    return result.data[0].embedding


@lo.section("step:classify")
def classify(ticket: str) -> str:
    reply = oai.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "system", "content": "Classify the ticket."}, {"role": "user", "content": ticket}],
        extra_headers=usage(input_tokens=450, output_tokens=12),
    )
    return reply.choices[0].message.content or ""


@lo.section("step:draft")
def draft(ticket: str, n: int) -> str:
    # Long context with prompt caching: the second ticket of a customer reads the cache.
    with claude.messages.stream(
        model="claude-sonnet-4-5",
        max_tokens=800,
        system="You are a support engineer. Product manual follows...",
        messages=[{"role": "user", "content": ticket}],
        extra_headers=usage(
            input_tokens=900,
            output_tokens=650,
            cache_creation_input_tokens=0 if n else 12_000,
            cache_read_input_tokens=12_000 if n else 0,
        ),
    ) as stream:
        return "".join(stream.text_stream)


@lo.section("step:review")
def review(answer: str) -> str:
    stream = oai.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": f"Review this answer: {answer}"}],
        stream=True,
        stream_options={"include_usage": True},
        extra_headers=usage(input_tokens=1_500, output_tokens=300, cached_tokens=1_024),
    )
    return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)


@lo.section("agent:support")
def handle(ticket: str, n: int) -> str:
    classify(ticket)
    with lo.section("step:research"):
        search_docs(ticket)
    answer = draft(ticket, n)
    return review(answer)


def main() -> None:
    lo.observe(service_name="support-bot")
    for customer, tickets in TICKETS.items():
        with lo.customer(customer):
            for n, ticket in enumerate(tickets):
                handle(ticket, n)
    lo.flush()
    print(f"handled {sum(map(len, TICKETS.values()))} tickets for {len(TICKETS)} customers")


if __name__ == "__main__":
    main()
