"""`llmobserve-otel proxy`: cost capture for any HTTP API, with no SDK in the app.

The app sends its provider calls through the proxy; the proxy forwards them byte for byte
(streams chunk by chunk), continues the app's trace from `traceparent`, reads customer and
section path from `baggage`, and records one provider-call span per call with the usage it parsed
from the response. The span goes out over OTLP (standard OTEL_* variables, default
http://localhost:4318), unpriced: the collector (local or rotel/otelcol with the pricing processor)
adds `llmobserve.cost.*`. `--price` prices in the proxy instead (`llmobserve.cost.source=proxy`).

Routing contract (stable: the app side and other tools build these URLs)
-----------------------------------------------------------------------
```
GET  /health                                  {"status": "ok"}
ANY  /{provider}/{path}?{query}               -> https://{provider's API host}/{path}?{query}
                                                 e.g. /openai/v1/chat/completions -> https://api.openai.com/v1/chat/completions
                                                 (`--upstream provider=URL` points a provider elsewhere)
ANY  /_/{scheme}/{host[:port]}/{path}?{query} -> {scheme}://{host[:port]}/{path}?{query}
```
`{provider}` is any id of `llmobserve_otel.providers.PROVIDERS` that has a fixed API host; a
provider with only wildcard hosts (`*.openai.azure.com`) is reached through the `/_/` form. The
`/_/` form reaches provider hosts (wildcards included), hosts declared in the proxy's own
`LLMOBSERVE_PROVIDER_HOSTS`, and hosts on the allowlist (`--allow-host`,
`LLMOBSERVE_PROXY_ALLOW_HOSTS`: `api.example.com`, `*.example.com`, `host:port`); anything else is
403. SDK base URLs: `OPENAI_BASE_URL=http://127.0.0.1:9000/openai/v1`,
`ANTHROPIC_BASE_URL=http://127.0.0.1:9000/anthropic`.

Automatic routing: with `LLMOBSERVE_PROXY_URL=http://127.0.0.1:9000` in the app, the in-process
capture rewrites requests for provider hosts to the `/_/` form (`capture/_proxy_route.py`) and
records no span of its own; the stock HTTP client span and its traceparent and baggage go to the
proxy, whose span becomes that span's child. One span per call either way.

Headers: hop-by-hop ones (RFC 9110 7.6.1), `traceparent`, `tracestate`, `baggage`, every
`x-llmobserve-*` and `proxy-*` header stop at the proxy; everything else, auth headers included,
is forwarded and never recorded or logged.

Security: the proxy binds 127.0.0.1 by default; on any other interface it needs
`LLMOBSERVE_PROXY_TOKEN` (clients send `Proxy-Authorization: Bearer TOKEN` or
`x-llmobserve-proxy-token: TOKEN`; `Authorization` stays the provider's) unless `--insecure`.
No open relay (403 above); no target may resolve to loopback, private, link-local or the proxy's
own socket unless the operator named it (`--upstream`, `LLMOBSERVE_PROVIDER_HOSTS`) or passed
`--allow-private`; redirects are passed to the client, never followed; bodies over
`--max-body-bytes` get 413. `--workers N` serves the port from N processes (SO_REUSEPORT). Upstream timeout 504, unreachable upstream 502, both with a JSON body
`{"error": {"type": "llmobserve_proxy_error", "code": ..., "message": ...}}`; upstream errors
pass through unchanged.
"""

from llmobserve_otel.proxy._app import Proxy, ProxyConfig
from llmobserve_otel.proxy._server import ServerThread, serve

__all__ = ("Proxy", "ProxyConfig", "ServerThread", "serve")
