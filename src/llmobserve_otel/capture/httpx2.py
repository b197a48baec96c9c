"""Usage capture on httpx2 transports (openai >= 3, anthropic >= 2): httpx's fork, same classes."""

from llmobserve_otel.capture._httpx_base import HttpxCapture

CAPTURE = HttpxCapture("httpx2")
