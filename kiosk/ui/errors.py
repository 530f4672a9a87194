"""The one handler that turns a worker's unexpected failure into something the keeper sees.

Textual posts `Worker.StateChanged` only to the node that started the worker (it does not bubble), so every
kiosk screen mixes this in; the handler itself lives here once and hands the failure to the app.
"""

from __future__ import annotations

from typing import Protocol

from textual.worker import Worker, WorkerState


class ReportsWorkerFailures(Protocol):
    def worker_failed(self, worker: Worker[object]) -> None: ...


class ShowsWorkerErrors:
    app: ReportsWorkerFailures

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.app.worker_failed(event.worker)
