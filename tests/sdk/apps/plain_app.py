"""An app that knows nothing of llmobserve_otel (or OpenTelemetry): zero-code is all it gets.

Calls OpenAI chat (APP_OPENAI_URL) and an Anthropic message stream (APP_ANTHROPIC_URL), prints
what the SDKs returned as one JSON line. Usage is fixed by `x-sim-usage`:

  chat    gpt-4o             400 input (100 cached), 50 output
  stream  claude-sonnet-4-5  200 input + 0 cache read + 1000 cache write, 80 output
"""

from __future__ import annotations

import json
import os

import anthropic
import openai


def main() -> None:
    oai = openai.OpenAI(
        base_url=os.environ["APP_OPENAI_URL"] + "/v1", api_key="sk-test-secret", max_retries=0
    )
    ant = anthropic.Anthropic(
        base_url=os.environ["APP_ANTHROPIC_URL"], api_key="sk-ant-secret", max_retries=0
    )
    chat = oai.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Say hello."}],
        extra_headers={
            "x-sim-usage": json.dumps({"input_tokens": 400, "output_tokens": 50, "cached_tokens": 100})
        },
    )
    with ant.messages.stream(
        model="claude-sonnet-4-5",
        max_tokens=512,
        messages=[{"role": "user", "content": "Stream a greeting."}],
        extra_headers={
            "x-sim-usage": json.dumps(
                {"input_tokens": 200, "cache_creation_input_tokens": 1000, "output_tokens": 80}
            )
        },
    ) as stream:
        final = stream.get_final_message()
    out = {
        "chat": {"text": chat.choices[0].message.content, "usage": chat.usage.model_dump()},
        "message": {"text": final.content[0].text, "usage": final.usage.model_dump()},
    }
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
