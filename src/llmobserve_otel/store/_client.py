"""Opening the store: an embedded chDB directory or a ClickHouse server, through clickhouse-connect.

```
chdb://./.llmobserve/store          embedded, relative to the working directory
chdb:///var/lib/llmobserve          embedded, absolute path
http(s)://user:pass@host:8123/db    a ClickHouse server (database from the path, default `default`)
```

A chDB directory is owned by one process at a time (ClickHouse holds an exclusive `flock` on
`<dir>/status`), and one process can host one chDB directory at a time; both limits surface here
as `StoreLockedError` with a message saying what to do, before chDB prints its own noise.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from llmobserve_otel.store._schema import (
    TRACES_INSERT_COLUMNS,
    TRACES_INSERT_TYPES,
    TRACES_TABLE,
    SchemaOptions,
    ident,
    rebuild_rollup_statements,
    run_hours_refresh_views,
    schema_statements,
)

if TYPE_CHECKING:
    from clickhouse_connect.driver.client import Client

__all__ = (
    "DEFAULT_URL",
    "ENV_URL",
    "StoreError",
    "StoreLockedError",
    "StoreMissingError",
    "StoreURL",
    "StoreUnavailableError",
    "ensure_schema",
    "insert_spans",
    "open_store",
    "parse_url",
    "rebuild_rollups",
    "refresh_views",
    "resolve_url",
)

DEFAULT_URL = "chdb://./.llmobserve/store"
ENV_URL = "LLMOBSERVE_CLICKHOUSE_URL"


class StoreError(Exception):
    """The store cannot be used; the message says why in one line.

    StoreError
     ├── StoreLockedError       another process owns the chDB directory
     ├── StoreMissingError      no store at that location (and not asked to create one)
     └── StoreUnavailableError  the ClickHouse server did not answer or refused us
    """


class StoreLockedError(StoreError):
    pass


class StoreMissingError(StoreError):
    pass


class StoreUnavailableError(StoreError):
    pass


@dataclass(frozen=True)
class StoreURL:
    """A parsed store location."""

    url: str
    embedded: bool
    path: str | None = None
    """Absolute chDB directory (embedded only)."""
    database: str = "default"

    @property
    def display(self) -> str:
        """The URL without its password, for messages and logs."""
        if self.embedded:
            return f"chdb://{self.path}"
        parsed = urlparse(self.url)
        netloc = parsed.hostname or ""
        if parsed.port:
            netloc += f":{parsed.port}"
        if parsed.username:
            netloc = f"{parsed.username}@{netloc}"
        return parsed._replace(netloc=netloc).geturl()


def resolve_url(url: str | None = None) -> str:
    """The store URL: the argument, else `LLMOBSERVE_CLICKHOUSE_URL`, else the embedded default."""
    return url or os.environ.get(ENV_URL) or DEFAULT_URL


def parse_url(url: str) -> StoreURL:
    """Parse a store URL; raises ValueError for an unsupported scheme."""
    if url.startswith("chdb://"):
        raw = url[len("chdb://") :].split("?", 1)[0]
        if not raw or raw in ("memory", ":memory:"):
            raise ValueError("an in-memory chDB store would lose every span; give a directory: chdb://PATH")
        return StoreURL(url=url, embedded=True, path=os.path.realpath(os.path.expanduser(raw)))
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https"):
        raise ValueError(
            f"unsupported store URL {url!r}: use chdb://PATH or http(s)://user:pass@host:8123/db"
        )
    database = parsed.path.strip("/").split("/")[0] or "default"
    return StoreURL(url=url, embedded=False, database=database)


def _check_not_locked(path: str) -> None:
    status = os.path.join(path, "status")
    try:
        fd = os.open(status, os.O_RDONLY)
    except FileNotFoundError:
        return  # nobody has it open: ClickHouse removes the file on a clean close
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise StoreLockedError(
                f"the store {path} is in use by another process (a running collector?); "
                "ask that collector (--collector-url) or stop it first"
            ) from None
        raise
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def open_store(url: str, *, create: bool = True, schema: bool = True, check_lock: bool = True) -> Client:
    """A clickhouse-connect client for the store at `url`, with the schema in place.

    Args:
        url: a store URL (see the module docstring).
        create: create a missing chDB directory (the collector does; the report does not).
        schema: create the tables and views if they do not exist yet (idempotent).
        check_lock: refuse a chDB directory another process holds. Off for a second handle in
            the process that already holds it (the lock would report this very process).
    """
    import clickhouse_connect
    from clickhouse_connect.driver.exceptions import ClickHouseError

    location = parse_url(url)
    if location.embedded:
        assert location.path is not None
        if not os.path.isdir(location.path):
            if not create:
                raise StoreMissingError(
                    f"no store at {location.path}: start `llmobserve-otel collector` first, "
                    "or point --clickhouse-url / LLMOBSERVE_CLICKHOUSE_URL at the store"
                )
            os.makedirs(location.path, exist_ok=True)
        if check_lock:
            _check_not_locked(location.path)
        try:
            client = clickhouse_connect.get_client(dsn="chdb://" + location.path)
        except ClickHouseError as exc:
            if "already initialized with path" in str(exc):
                raise StoreLockedError(
                    f"this process already hosts another chDB store; cannot open {location.path}"
                ) from exc
            if "Cannot lock file" in str(exc) or "EmbeddedServer" in str(exc):
                raise StoreLockedError(f"the store {location.path} is in use by another process") from exc
            raise StoreUnavailableError(f"cannot open the store {location.path}: {exc}") from exc
    else:
        try:
            client = clickhouse_connect.get_client(dsn=url, connect_timeout=5, send_receive_timeout=30)
        except ClickHouseError as exc:
            raise StoreUnavailableError(f"cannot reach ClickHouse at {location.display}: {exc}") from exc
    if schema:
        try:
            ensure_schema(client, SchemaOptions(database=location.database))
        except Exception:
            with contextlib.suppress(Exception):
                client.close()
            raise
    return client


def ensure_schema(client: Client, options: SchemaOptions | None = None) -> None:
    """Create every table and view that is missing; safe to run on every start."""
    for statement in schema_statements(options):
        client.command(statement)


def rebuild_rollups(client: Client, options: SchemaOptions | None = None) -> None:
    """Refill the rollups from the deduplicated cost table (see `rebuild_rollup_statements`)."""
    for statement in rebuild_rollup_statements(options):
        client.command(statement)
    refresh_views(client, options)


def refresh_views(client: Client, options: SchemaOptions | None = None) -> None:
    """Run the periodic run-hours refresh now and wait for it, so the panels see every span stored."""
    database = ident((options or SchemaOptions()).database)
    for view in run_hours_refresh_views():
        client.command(f"SYSTEM REFRESH VIEW {database}.{ident(view)}")
        client.command(f"SYSTEM WAIT VIEW {database}.{ident(view)}")


def insert_spans(client: Client, rows: Sequence[Sequence[Any]]) -> None:
    """Insert `otel_traces` rows (from `_rows.span_row`); the cost views fill themselves."""
    client.insert(
        TRACES_TABLE,
        rows,
        column_names=TRACES_INSERT_COLUMNS,
        column_type_names=TRACES_INSERT_TYPES,
    )
