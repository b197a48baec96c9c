"""An app that calls observe() and exports to wherever OTEL_EXPORTER_OTLP_ENDPOINT says (a dead port).

Makes an OpenAI chat call, an OpenAI chat stream (through the SDK, and raw through httpx2) and an
Anthropic message, and prints the raw bytes received (base64) with the parsed values, as one JSON
line on stdout.
"""

from __future__ import annotations

import base64
import json
import os
import time

import anthropic
import httpx2
import openai

import llmobserve_otel as lo


def main() -> None:
    lo.observe(service_name="dead-collector-app")
    oai = openai.OpenAI(base_url=os.environ["APP_OPENAI_URL"] + "/v1", api_key="sk-test", max_retries=0)
    ant = anthropic.Anthropic(base_url=os.environ["APP_ANTHROPIC_URL"], api_key="sk-ant-test", max_retries=0)
    out: dict = {}
    with lo.customer("acme"), lo.section("agent:dead"):
        raw = oai.chat.completions.with_raw_response.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "Still there?"}],
            extra_headers={"x-sim-usage": json.dumps({"input_tokens": 10, "output_tokens": 5})},
        )
        chat = raw.parse()
        out["chat"] = {
            "raw": base64.b64encode(raw.http_response.content).decode(),
            "content_length": raw.http_response.headers.get("content-length"),
            "text": chat.choices[0].message.content,
        }
        stream = oai.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "Stream anyway."}],
            stream=True,
            stream_options={"include_usage": True},
            extra_headers={"x-sim-usage": json.dumps({"input_tokens": 7, "output_tokens": 3})},
        )
        out["sdk_stream"] = {"text": "".join(c.choices[0].delta.content or "" for c in stream if c.choices)}
        # The raw bytes of a stream, through the same captured transport (httpx2) the SDKs use.
        # (Not `with_streaming_response`: openai-v2, which zero-code also loads, breaks its iter_bytes.)
        with (
            httpx2.Client() as http,
            http.stream(
                "POST",
                os.environ["APP_OPENAI_URL"] + "/v1/chat/completions",
                json={
                    "model": "gpt-4o",
                    "messages": [{"role": "user", "content": "Stream anyway."}],
                    "stream": True,
                    "stream_options": {"include_usage": True},
                },
                headers={
                    "authorization": "Bearer sk-test",
                    "x-sim-usage": json.dumps({"input_tokens": 7, "output_tokens": 3}),
                },
            ) as response,
        ):
            out["stream"] = {"raw": base64.b64encode(b"".join(response.iter_bytes())).decode()}
        raw = ant.messages.with_raw_response.create(
            model="claude-sonnet-4-5",
            max_tokens=64,
            messages=[{"role": "user", "content": "And you?"}],
            extra_headers={"x-sim-usage": json.dumps({"input_tokens": 4, "output_tokens": 2})},
        )
        message = raw.parse()
        out["message"] = {
            "raw": base64.b64encode(raw.http_response.content).decode(),
            "content_length": raw.http_response.headers.get("content-length"),
            "text": message.content[0].text,
        }
    out["calls_done_at"] = time.time()  # the test measures from here to the process's exit
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
