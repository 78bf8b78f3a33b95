"""The scenarios, one module each. A module defines NUMBER, NAME and run(harness, result); adding
a scenario is adding a file here (docs/chaos.md says what it maps to in Kubernetes / AWS)."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def _discover() -> dict[int, ModuleType]:
    found: dict[int, ModuleType] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        number = getattr(module, "NUMBER", None)
        if number is None:
            continue
        if number in found:
            raise RuntimeError(f"scenario number {number} is taken twice: {found[number].__name__} and {module.__name__}")
        found[number] = module
    return dict(sorted(found.items()))


REGISTRY: dict[int, ModuleType] = _discover()
SCENARIOS: dict[int, str] = {number: module.NAME for number, module in REGISTRY.items()}
