"""The thread lifecycle of a long-running loop: ``start()`` / ``stop()`` / ``close()``.

The Kafka relay and the inbound consumer each run a blocking ``run()`` (for their own CLI
command) that also runs in a thread of ``petition serve``. What surrounds that thread is the
same for both and lives here once: start at most once, stop by setting the ``_stopping`` event
(``run()`` watches it) and joining, close = stop and close the application. An exception that
escapes ``run()`` is kept in ``error`` and logged, never lost with the thread.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import Protocol, Self

import structlog

log = structlog.get_logger("petition.loops")


class Closable(Protocol):
    def close(self) -> None: ...


class LoopThread(ABC):
    """Mix-in: a loop with ``run()`` (until ``_stopping`` is set) runs in a background thread.

    Subclasses call ``LoopThread.__init__`` and implement ``run()``; one that sleeps on
    another event too overrides ``_interrupt()`` to set it, so ``stop()`` does not wait."""

    thread_name = "loop"
    app: Closable

    def __init__(self) -> None:
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    @abstractmethod
    def run(self) -> None:
        """The loop itself: returns once ``_stopping`` is set."""

    def _interrupt(self) -> None:  # noqa: B027 - an optional hook, a no-op by default
        """Wakes ``run()`` from any wait other than on ``_stopping`` (none by default)."""

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError(f"{self.thread_name} already started")
        self._stopping.clear()
        self.error = None
        self._thread = threading.Thread(target=self._run_in_thread, name=self.thread_name,
                                        daemon=True)
        self._thread.start()
        return self

    def _run_in_thread(self) -> None:
        try:
            self.run()
        except BaseException as error:
            self.error = error
            log.exception("loop.failed", loop=self.thread_name)

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._interrupt()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def close(self) -> None:
        """Stops the loop and closes its application."""
        self.stop()
        self.app.close()

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
