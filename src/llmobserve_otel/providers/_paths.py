"""Billable endpoints as data: (HTTP method, path regex, route) tables, matched in order."""

from __future__ import annotations

import re
from collections.abc import Iterable

from llmobserve_otel.providers._types import Route

PathTable = tuple[tuple[str, re.Pattern[str], Route], ...]


def match_path(routes: Iterable[tuple[str, re.Pattern[str], Route]], method: str, path: str) -> Route | None:
    """The first route whose method is `method` and whose pattern matches the whole path (a trailing
    `/` ignored), or None."""
    path = path.rstrip("/")
    for route_method, pattern, route in routes:
        if method == route_method and pattern.fullmatch(path):
            return route
    return None
