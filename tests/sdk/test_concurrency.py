"""No context bleed: 1,000 asyncio tasks and 32 threads, each with its own customer and section."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import openai

import llmobserve_otel as lo


def _by_response_id(spans) -> dict[str, dict]:
    return {s.attributes["gen_ai.response.id"]: dict(s.attributes) for s in spans.provider_calls()}


async def test_thousand_tasks_distinct_customers(sim, spans):
    client = openai.AsyncOpenAI(base_url=sim.url + "/v1", api_key="sk-test", max_retries=0)
    limit = asyncio.Semaphore(64)

    async def one(i: int) -> tuple[str, str]:
        with lo.customer(f"cust-{i}"):
            async with lo.section(f"agent:a{i % 7}"):
                await asyncio.sleep(0)  # let other tasks interleave inside the section
                async with limit:
                    r = await client.chat.completions.create(
                        model="gpt-4o-mini",
                        messages=[{"role": "user", "content": f"task {i}"}],
                        extra_headers={"x-sim-usage": json.dumps({"input_tokens": 10, "output_tokens": 1})},
                    )
        return r.id, f"cust-{i}"

    results = await asyncio.gather(*(one(i) for i in range(1000)))
    seen = _by_response_id(spans)
    assert len(seen) == 1000
    wrong = [
        (rid, cust)
        for (rid, cust) in results
        if seen[rid]["llmobserve.customer.id"] != cust
        or seen[rid]["llmobserve.section.path"] != f"agent:a{int(cust.split('-')[1]) % 7}"
    ]
    assert wrong == []
    await client.close()


def test_32_threads_distinct_customers(sim, spans):
    client = openai.OpenAI(base_url=sim.url + "/v1", api_key="sk-test", max_retries=0)

    def worker(t: int) -> list[tuple[str, str]]:
        out = []
        lo.set_customer_id(f"thread-{t}")  # request-handler style, no `with`
        for n in range(5):
            with lo.section(f"step:s{n}"):
                r = client.chat.completions.create(
                    model="gpt-4o", messages=[{"role": "user", "content": "x"}]
                )
            out.append((r.id, f"thread-{t}", f"step:s{n}"))
        return out

    with ThreadPoolExecutor(32) as pool:
        results = [row for rows in pool.map(worker, range(32)) for row in rows]
    seen = _by_response_id(spans)
    assert len(seen) == 160
    assert [
        r
        for r in results
        if (seen[r[0]]["llmobserve.customer.id"], seen[r[0]]["llmobserve.section.path"]) != r[1:]
    ] == []
