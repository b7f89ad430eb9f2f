"""What the routes share: the application, tokens, throttles and the read models' runner."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from adapters.settings import Settings
from workflows.application import PetitionApplication
from workflows.tokens import TokenService

SETTLE_LAG = 1000  # events a read waits for the view to catch up on, at most
POLL = (0.005, 0.05)  # first and longest wait between looks at a view another process follows
STALL_AFTER = 0.1  # seconds a read waits on such a view before asking whether it is stalled


@dataclass
class Engine:
    settings: Settings
    app: PetitionApplication
    tokens: TokenService
    throttle: Any = None  # adapters.throttle: QueryCodeThrottle or the store-shared one
    runner: Any = None  # projections.runner.ProjectionRunner when read models run in-process
    views: Any = None  # the read models' storage (adapters/persistence/views.ViewStore)
    loops: dict[str, Any] = field(default_factory=dict)  # other loops with a `health` (readyz)
    # API-only process (`serve --workers N`): the views are followed by `petition worker`
    views_elsewhere: bool = False
    blobs: Any = None  # adapters.blobs.port.BlobStore: the attachments' bytes
    integrity: Any = None  # adapters.sqlite_file.IntegrityWatch of a SQLite store (readyz)
    similar: Any = None  # projections.similar_cases.SimilarCases: the root's one index
    _views: dict[str, Any] = field(default_factory=dict)

    def view(self, name: str, *, settle: float = 2.0) -> Any:
        """A read model, first letting the in-process runner reach the log's end (bounded),
        so a reader sees the writes that came before its request."""
        if self.runner is not None:
            view = self.runner.views[name]
            end = self.app.recorder.max_notification_id() or 0
            if end - (view.max_tracking_id(self.app.name) or 0) <= SETTLE_LAG:
                try:
                    self.runner.wait(name, end, timeout=settle)
                except TimeoutError:
                    pass  # serve what the view has; /readyz reports the lag
            return view  # far behind (a start-up catch-up): waiting would only slow the reply
        if name not in self._views:
            self._views[name] = self.views.open(name)
        view = self._views[name]
        if self.views_elsewhere:
            self._settle_elsewhere(view, settle)
        return view

    def _settle_elsewhere(self, view: Any, settle: float) -> None:
        """Read-your-writes when another process follows the view: look at its tracking
        position until it reaches the log's end as it was on arrival (bounded, and not when
        far behind), so a write answered by one API process is seen by the next read on any.

        Whether the view is stalled (then waiting would not help) is asked once, and only
        after ``STALL_AFTER``: the views worker usually catches up within a few looks, and the
        question costs more than a look (is there a stalls table; its row when there is).
        The log's end and the view's position on arrival are one statement."""
        end, position = view.end_and_position(self.app.name)
        if end - position > SETTLE_LAG:
            return
        start = time.monotonic()
        deadline, pause = start + settle, POLL[0]
        looked = False
        while position < end and time.monotonic() < deadline:
            time.sleep(pause)
            pause = min(pause * 2, POLL[1])
            position = view.max_tracking_id(self.app.name) or 0
            if position < end and not looked and time.monotonic() - start >= STALL_AFTER:
                looked = True
                stall = view.stall()
                if stall is not None and stall["position"] > position:
                    return  # stalled before an event: waiting would not help (/readyz says so)


def engine(request: Request) -> Engine:
    return request.app.state.engine
