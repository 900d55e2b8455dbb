"""The runner's checks, one module per service (``tcp_chat.py`` checks ``tcp_chat``).

``discover()`` imports every module of this package except ``base``, in name order, so a new
``checks/foo.py`` registers itself with no edit elsewhere (``flask_api_httpbin.py`` runs after
``flask_api.py``). A module that fails to import is recorded in the registry's ``import_errors``
under its service: the longest registered service its name starts with (``flask_api_httpbin`` ->
``flask_api``), else its own name. The runner reports it as a failed check ``import`` of that
service instead of taking the other services down with it.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback
from collections.abc import Iterable

from .base import REGISTRY, Registry

SKIP = frozenset({"base"})
_TRIED: dict[str, bool] = {}  # full module name -> imported; a broken module is tried once only


def discover(
    package: str = __name__,
    path: Iterable[str] | None = None,
    registry: Registry = REGISTRY,
) -> list[str]:
    """Import each check module of ``package`` once; return the names of those that imported.

    Calling it again is harmless: a module is tried once per process.

    ``path`` defaults to the package's own folder (a test passes a temporary package instead).
    """
    if path is None:
        path = sys.modules[package].__path__ if package in sys.modules else []
        if not path:
            path = importlib.import_module(package).__path__
    loaded: list[str] = []
    failed: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(list(path)), key=lambda m: m.name):
        if info.name in SKIP or info.name.startswith("_"):
            continue
        full = f"{package}.{info.name}"
        if full in _TRIED:  # a second import of a half-run module would register twice
            if _TRIED[full]:
                loaded.append(info.name)
            continue
        try:
            importlib.import_module(full)
        except Exception as exc:  # any bug in one module must not hide the others' results
            failed[info.name] = _describe(info.name, exc)
        else:
            loaded.append(info.name)
        _TRIED[full] = info.name not in failed
    for module, text in failed.items():
        service = service_of(module, registry.services())
        before = registry.import_errors.get(service)
        registry.import_errors[service] = f"{before}\n\n{text}" if before else text
    return loaded


def service_of(module: str, services: Iterable[str]) -> str:
    owners = [s for s in services if module == s or module.startswith(s + "_")]
    return max(owners, key=len, default=module)


def _describe(module: str, exc: BaseException) -> str:
    """First line ``checks/MODULE.py: Error: message``, then the innermost frames."""
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-3)
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return f"checks/{module}.py: {last}\n" + "".join(lines).strip()
