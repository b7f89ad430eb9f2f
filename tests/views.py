"""The read models' storage beside a test's application, one per application.

Production code gets it from the composition root (``Root.views``); tests that build their
own applications ask here, so every view of one application shares one connection pool, which
closes with the application.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from adapters.persistence.views import ViewStore

_STORES: WeakKeyDictionary[Any, ViewStore] = WeakKeyDictionary()


def views_of(app: Any) -> ViewStore:
    store = _STORES.get(app)
    if store is None:
        store = _STORES[app] = ViewStore.beside(app)
    return store
