"""Models are loaded on first use, once per process, even when threads (a request and an
asynchronous job) ask for one at the same time."""
from __future__ import annotations

import functools
import threading
from typing import Callable, TypeVar

T = TypeVar("T")


def load_once(loader: Callable[..., T]) -> Callable[..., T]:
    """Cache ``loader``'s result per arguments; concurrent first calls load it only once."""
    cached = functools.cache(loader)
    lock = threading.Lock()

    @functools.wraps(loader)
    def get(*args):
        with lock:
            return cached(*args)
    get.cache_clear = cached.cache_clear
    return get
