"""SyncService as a UI worker drives it: a loop with a stop check and a wake-up, typed statuses, offline and
not-enrolled states, and a status that any process can read back from the gate's database."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path

from tests.sync_testkit import (  # noqa: F401
    FaultyProxy,
    MakeGate,
    RunningHq,
    hq,
    hq_db_url,
    make_gate,
    signing_key_file,
    wait_until,
)

from kiosk.config import KioskConfig
from kiosk.uplink.client import SyncService
from kiosk.uplink.status import Connection, SyncStatus


def _start_worker(
    service: SyncService, stop: threading.Event, on_status: Callable[[SyncStatus], None], **run: float
) -> threading.Thread:
    """The service's loop in a thread, as the kiosk runs it; a daemon, so that a test failing before it asks the
    loop to stop does not leave the test run waiting for the loop's next interval."""
    worker = threading.Thread(target=service.run, args=(stop.is_set, on_status), kwargs=run, daemon=True)
    worker.start()
    return worker


def test_the_loop_reports_each_run_and_stops_when_asked(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, "north-gate")
    gate.log(5)
    service = gate.service()
    seen: list[SyncStatus] = []
    stop = threading.Event()

    def on_status(status: SyncStatus) -> None:
        seen.append(status)
        if len(seen) == 3:
            stop.set()

    worker = _start_worker(service, stop, on_status, interval=60, tick=0.05)
    wait_until(lambda: len(seen) >= 2, "the first run's status")
    gate.log(2)
    service.wake()  # without this the next run would be a minute away
    worker.join(timeout=10)
    service.close()

    assert not worker.is_alive()
    local, first, second = seen
    assert local.connection is Connection.OFFLINE and local.entries_waiting == 5  # before any run: from the database
    assert (first.connection, first.uploaded, first.entries_waiting) == (Connection.ONLINE, 5, 0)
    assert (second.uploaded, second.upload_cursor) == (2, 7)
    assert hq.entry_count() == 7


def test_a_stop_request_ends_the_wait_within_a_tick(hq: RunningHq, make_gate: MakeGate) -> None:
    service = make_gate(hq, "north-gate").service()
    seen: list[SyncStatus] = []
    stop = threading.Event()
    worker = _start_worker(service, stop, seen.append, interval=3600, tick=0.05)
    wait_until(lambda: len(seen) == 2, "the first run's status")  # the worker now waits out its hour

    stop.set()
    worker.join(timeout=60)  # only a bound for a broken loop: the wait the stop request ends is an hour
    service.close()

    assert not worker.is_alive()
    assert seen[-1].online, seen[-1].last_error


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_hq_down_means_offline_with_the_reason_and_entries_kept(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, "north-gate", url=f"http://127.0.0.1:{_free_port()}")
    gate.log(4)

    status = gate.sync()

    assert status.connection is Connection.OFFLINE and not status.online
    assert "unreachable" in (status.last_error or "") and "ConnectError" in (status.last_error or "")
    assert status.entries_waiting == 4 and status.last_success_at is None and status.last_attempt_at is not None


def test_an_hq_address_httpx_cannot_use_is_an_error_status_not_a_crash(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, "north-gate", url="http://[::1")  # passes the config's check, but is no URL
    gate.log(1)

    status = gate.sync()

    assert status.connection is Connection.ERROR
    assert "the HQ address 'http://[::1' is not usable" in (status.last_error or "")
    assert status.entries_waiting == 1


def test_a_stop_request_also_ends_the_retries_of_an_unreachable_hq(hq: RunningHq, make_gate: MakeGate) -> None:
    """A kiosk quitting while HQ is down does not sit out the 30 s retry budget: no retry after the stop.

    HQ is down behind a proxy that takes each request and closes the connection, so the test sees the retries."""
    down = FaultyProxy(f"http://127.0.0.1:{_free_port()}")
    gate = make_gate(hq, "north-gate", url=down.url, sync_retry_seconds=30)
    gate.log(1)
    service = gate.service()
    seen: list[SyncStatus] = []
    stop = threading.Event()
    worker = _start_worker(service, stop, seen.append, tick=0.05)
    wait_until(lambda: len(down.requests) >= 2, "a retry of the upload")

    tried_before_stop = len(down.requests)
    stop.set()
    worker.join(timeout=10)
    service.close()
    down.close()

    assert not worker.is_alive()
    assert len(down.requests) <= tried_before_stop + 1  # at most the attempt a backoff was already waiting for
    assert [s.connection for s in seen] == [Connection.OFFLINE, Connection.OFFLINE] and seen[-1].tried
    assert "unreachable" in (seen[-1].last_error or "") and seen[-1].entries_waiting == 1


def test_status_survives_the_process_and_needs_no_network(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, "north-gate")
    gate.log(3)
    synced = gate.sync()
    gate.log(2)

    service = SyncService(gate.config)  # as another process would, e.g. `pocket-kiosk sync --status`
    status = service.status()
    service.close()

    assert status.connection is Connection.ONLINE
    assert (status.entries_waiting, status.upload_cursor) == (2, 3)
    assert status.last_success_at == synced.last_success_at
    assert status.bundle_version == synced.bundle_version and status.bundle_age() is not None


def test_a_gate_without_hq_settings_is_not_enrolled(tmp_path: Path) -> None:
    service = SyncService(KioskConfig(database=tmp_path / "gate.db"))

    status = service.run_once()
    service.close()

    assert status.connection is Connection.NOT_ENROLLED
    assert status.last_attempt_at is None and status.bundle_age() is None


def test_an_unreadable_gate_database_is_an_error_status_not_a_crash(tmp_path: Path) -> None:
    service = SyncService(KioskConfig(database=tmp_path, hq_url="http://127.0.0.1:9"))  # a folder, not a file

    statuses = [service.status(), service.run_once()]

    assert all(s.connection is Connection.ERROR and "gate database" in (s.last_error or "") for s in statuses)
