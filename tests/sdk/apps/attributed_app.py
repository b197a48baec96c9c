"""An app run under `opentelemetry-instrument` / `llmobserve-otel run`: it never calls observe().

It imports llmobserve_otel only for `customer` and `section`, and calls the OpenAI (sync and
stream) and Anthropic APIs of the simulators named by APP_OPENAI_URL and APP_ANTHROPIC_URL.
It prints what the SDKs returned as one JSON line on stdout. Usage is fixed by `x-sim-usage`:

  chat    gpt-4o             1000 input (200 cached), 500 output   customer acme, agent:research/step:plan
  stream  gpt-4o             120 input, 40 output                  customer acme, agent:research
  message claude-sonnet-4-5  1000 input + 2000 cache read + 500 cache write, 300 output
                                                                   customer globex, agent:writer
"""

from __future__ import annotations

import json
import os

import anthropic
import openai

import llmobserve_otel as lo


def main() -> None:
    oai = openai.OpenAI(
        base_url=os.environ["APP_OPENAI_URL"] + "/v1", api_key="sk-test-secret", max_retries=0
    )
    ant = anthropic.Anthropic(
        base_url=os.environ["APP_ANTHROPIC_URL"], api_key="sk-ant-secret", max_retries=0
    )
    out: dict = {}
    with lo.customer("acme"), lo.section("agent:research"):
        with lo.section("step:plan"):
            chat = oai.chat.completions.create(
                model="gpt-4o",
                messages=[{"role": "user", "content": "Plan the research."}],
                extra_headers={
                    "x-sim-usage": json.dumps(
                        {"input_tokens": 1000, "output_tokens": 500, "cached_tokens": 200}
                    ),
                    "x-sim-response-model": "gpt-4o-2024-08-06",
                },
            )
        out["chat"] = {"text": chat.choices[0].message.content, "usage": chat.usage.model_dump()}
        stream = oai.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "Stream the plan."}],
            stream=True,
            stream_options={"include_usage": True},
            extra_headers={"x-sim-usage": json.dumps({"input_tokens": 120, "output_tokens": 40})},
        )
        chunks = list(stream)
        out["stream"] = {
            "text": "".join(c.choices[0].delta.content or "" for c in chunks if c.choices),
            "usage": chunks[-1].usage.model_dump(),
        }
    with lo.customer("globex"), lo.section("agent:writer"):
        message = ant.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=512,
            messages=[{"role": "user", "content": "Write it."}],
            extra_headers={
                "x-sim-usage": json.dumps(
                    {
                        "input_tokens": 1000,
                        "cache_read_input_tokens": 2000,
                        "cache_creation_input_tokens": 500,
                        "output_tokens": 300,
                    }
                )
            },
        )
    out["message"] = {"text": message.content[0].text, "usage": message.usage.model_dump()}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
