"""One extra worker process of `llmobserve-otel proxy --workers N` (started by the CLI, not by users).

The CLI passes the resolved configuration as JSON in `LLMOBSERVE_PROXY_WORKER` and the listening
address as arguments; every worker binds the same port with SO_REUSEPORT and exports its own spans.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys

from llmobserve_otel.proxy._app import Proxy, ProxyConfig
from llmobserve_otel.proxy._server import serve

ENV_CONFIG = "LLMOBSERVE_PROXY_WORKER"


def encode_config(config: ProxyConfig) -> str:
    return json.dumps(dataclasses.asdict(config))


def decode_config(text: str) -> ProxyConfig:
    values = json.loads(text)
    values["allow_hosts"] = tuple(values["allow_hosts"])
    return ProxyConfig(**values)


def main(argv: list[str]) -> int:
    host, port, log_level, drain = argv[0], int(argv[1]), argv[2], float(argv[3])
    config = decode_config(os.environ.pop(ENV_CONFIG))  # holds the token: not left for children
    serve(
        Proxy(config), host, port, log_level=log_level, drain_seconds=drain, reuse_port=True, announce=False
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
