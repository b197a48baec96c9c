"""Usage capture on httpx transports (openai < 3, anthropic < 2, and any httpx client)."""

from llmobserve_otel.capture._httpx_base import HttpxCapture

CAPTURE = HttpxCapture("httpx")
