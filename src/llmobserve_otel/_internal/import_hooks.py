"""Run a function once a module has been imported (at once when it already is).

What `observe()` needs of wrapt's post-import hooks, without importing wrapt at start-up: `import
wrapt` loads importlib.metadata and asyncio, about 30 ms that an app which has imported neither
would pay in `observe()`. A finder first on `sys.meta_path` answers only for hooked module names:
it asks the rest of the path for the module's spec and wraps the loader, which runs the module,
puts the original loader back and calls the hooks.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from llmobserve_otel._internal.guard import report_internal_error

__all__ = ("when_imported",)

Hook = Callable[[ModuleType], None]

_hooks: dict[str, list[Hook]] = {}
_lock = threading.Lock()


def when_imported(name: str, hook: Hook) -> None:
    """Call `hook(module)` once module `name` is imported: now when it already is, else right after."""
    with _lock:
        module = sys.modules.get(name)
        if module is None:
            _hooks.setdefault(name, []).append(hook)
            if not any(type(finder) is _Finder for finder in sys.meta_path):
                sys.meta_path.insert(0, _Finder())
            return
    hook(module)


def _run_hooks(name: str) -> None:
    with _lock:
        hooks = _hooks.pop(name, [])
    module = sys.modules.get(name)
    if module is not None:
        for hook in hooks:
            try:
                hook(module)
            except Exception as exc:  # the app's import must succeed whatever a hook does
                report_internal_error(f"import_hooks.{name}", exc)


class _Finder(importlib.abc.MetaPathFinder):
    def __init__(self) -> None:
        self._finding = threading.local()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _hooks or getattr(self._finding, "name", None) == fullname:
            return None
        self._finding.name = fullname  # the lookup below comes back through this finder
        try:
            spec = importlib.util.find_spec(fullname)
        except Exception:  # the import system, asked again without us, gives the app its own error
            return None
        finally:
            self._finding.name = None
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _Loader(spec.loader)
        return spec


class _Loader(importlib.abc.Loader):
    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)  # type: ignore[no-any-return]

    def exec_module(self, module: ModuleType) -> None:
        # The module keeps its own loader (resources, reloads), not this wrapper.
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        module.__loader__ = self._loader
        self._loader.exec_module(module)
        _run_hooks(module.__name__)
