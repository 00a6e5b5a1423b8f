"""Exchange adapters: one module per exchange with its quirks, plus a generic one over ccxt's unified API.

Each module of this package registers its adapter class with ``@register("<ccxt id>")``; every module here
is imported when the package is, so adding an exchange is adding a file. ``adapter_for(exchange_id)`` picks
the first-class adapter where there is one, else the generic adapter.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from importer.sync import Adapter

ADAPTERS: dict[str, type] = {}


def register(exchange_id: str) -> Callable[[type], type]:
    def add(cls: type) -> type:
        ADAPTERS[exchange_id] = cls
        return cls

    return add


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")


def adapter_for(exchange_id: str) -> Adapter:
    from importer.adapters.generic import GenericAdapter

    return ADAPTERS.get(exchange_id, GenericAdapter)()
