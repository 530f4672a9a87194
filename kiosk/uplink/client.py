"""The gate's side of sync: an HTTP client for HQ and a UI-agnostic `SyncService` that uploads the entry log
and applies HQ's bundle, in the background or once from the command line.

Sync rules (shared/DESIGN.md): the uploader reads `seq > cursor ORDER BY seq LIMIT n`, capped by count and
bytes, and sends the rows as stored (HQ judges each entry; the gate does not stop at one it guesses HQ will not
take); the cursor moves only after HQ's 2xx answer, in one transaction with the entries HQ's answer refused,
which are kept as refused (kiosk/uplink/state.py) and make the run an ERROR naming them; the lists are fetched
whatever became of the upload; then the counts of the days finished and uploaded whole go to HQ for daily
reconciliation (kiosk/uplink/day_reports.py; an HQ without it answers 404, and that is all); retries back off
exponentially with jitter (stamina) for timeouts, dropped connections, answers damaged in transit (a gzipped body
that does not decompress), 5xx and 429; 401/403/409/422 and other 4xx are not retried but shown. Every httpx error ends as a
`SyncError`, so as a status, never as an exception out of `SyncService.run_once`. The service knows nothing of
any UI: it returns a `SyncStatus` and takes plain callables.

Use from a UI (a Textual thread worker, for instance)::

    service = SyncService(config)
    service.run(should_stop=lambda: worker.is_cancelled, on_status=post_status_message)

and `service.wake()` from any thread to sync now instead of at the next interval.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import sqlite3
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import httpx
import stamina
from pydantic import ValidationError

from kiosk import id_keys
from kiosk.config import KioskConfig
from kiosk.duty_log import DUTY_BATCH_EVENTS, DutyLog, duty_batch_body
from kiosk.store import GateStore, StoreError
from sync.core.bundle import BundleError, SigningKeyError, load_public_key, public_pem, verify_signed_bundle
from sync.core.codes.trust import key_id
from sync.core.duty import DutyReceipt
from kiosk.export import ExportError
from kiosk.uplink.day_reports import due_report
from kiosk import incidents
from sync.core.protocol import (
    MAX_INCIDENTS_SENT,
    IncidentReceipt,
    IncidentReport,
    ENTRIES_PROTOCOL,
    MAX_BODY_BYTES,
    AlertKind,
    BundleNotice,
    DayReceipt,
    DayReport,
    GateInfo,
    UploadReceipt,
)
from sync.core.i18n import _
from kiosk.uplink.files import write_atomic
from kiosk.uplink.tls import pinned_context
from kiosk.uplink.state import BundleChange, SyncState, refusal_summary
from kiosk.uplink.status import Connection, SyncProgress, SyncStatus, is_enrolled, read_status, store_failure

USER_AGENT = "pocket-gate-sync/1"
LISTEN_SECONDS = 25.0
"""How long the gate asks HQ to hold its wait for a new bundle: under the 30-60 s after which proxies drop
requests that send nothing."""

# stamina reports each retry through logging; without a handler Python would print the bare event name on
# stderr (across a terminal UI). The outcome is in SyncStatus; an app that configures logging still sees them.
logging.getLogger("stamina").addHandler(logging.NullHandler())


class SyncError(Exception):
    """A sync step failed; `str()` is what the keeper or the operator reads."""


class NotEnrolled(SyncError):
    """The gate has no HQ address, token or pinned key yet (`pocket-kiosk enroll`)."""


class HqUnreachable(SyncError):
    """No usable answer from HQ (none, only 5xx/429, or one damaged in transit) for the whole retry budget: the
    gate is offline for now and tries again at the next interval."""


class HqRefused(SyncError):
    """HQ answered with a 4xx that retrying will not fix (wrong or revoked token, malformed data)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(_("HQ refused ({status}): {detail}").format(status=status, detail=detail))
        self.status = status
        self.detail = detail


class CertificateRefused(SyncError):
    """HQ's address answered with another certificate than the one pinned at enrolment: nothing was sent to it,
    and nothing will be until the certificate is the pinned one again (or the gate is enrolled again)."""


class _RetryableAnswer(Exception):
    """A 5xx or 429 answer, raised inside the retry loop so stamina retries it."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(_("HQ answered {status}: {detail}").format(status=response.status_code, detail=_detail(response)))
        self.response = response


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    detail = body.get("detail") if isinstance(body, dict) else None
    return str(detail)[:500] if detail else response.reason_phrase


def _certificate_problem(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate check that failed under a transport error, if that is what it was."""
    while exc is not None:
        if isinstance(exc, ssl.SSLCertVerificationError):
            return exc
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return None


def _retry_hook(exc: Exception) -> bool | float:
    """stamina backoff hook: retry transport failures, answers damaged in transit and 5xx; honour 429's
    Retry-After. Asking again is harmless: uploads are idempotent by batch id and the bundle is a GET. A
    certificate that is not HQ's pinned one is not retried: asking again would not change it."""
    if isinstance(exc, httpx.TransportError) and _certificate_problem(exc) is not None:
        return False
    if isinstance(exc, httpx.TransportError | httpx.DecodingError):
        return True
    if isinstance(exc, _RetryableAnswer):
        retry_after = exc.response.headers.get("Retry-After", "")
        if exc.response.status_code == 429 and retry_after.isdigit():
            return float(min(int(retry_after), 60))
        return True
    return False


class HqClient:
    """httpx against one HQ with one gate's token; every call retries within `retry_seconds`."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 30.0,
        retry_seconds: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        should_stop: Callable[[], bool] = lambda: False,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        """`verify`: the TLS context HQ's certificate is checked with (the pinned one, `kiosk.uplink.tls`)."""
        self.url = url.rstrip("/")
        self.retry_seconds = retry_seconds
        self.timeout = timeout
        self._should_stop = should_stop
        """Checked before each retry: a kiosk that is quitting gives up at once instead of backing off."""
        try:
            self._http = httpx.Client(
                base_url=self.url,
                headers={"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT},
                timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                transport=transport,
                verify=verify,
            )
        except httpx.InvalidURL as exc:
            raise SyncError(_("the HQ address {url!r} is not usable: {error}").format(url=url, error=exc)) from exc

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HqClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, *, retry: bool = True, **kwargs: Any) -> httpx.Response:
        attempts = None if self.retry_seconds > 0 and retry else 1
        try:
            for attempt in stamina.retry_context(
                on=self._retry,
                attempts=attempts,
                timeout=self.retry_seconds or None,
                wait_initial=0.2,
                wait_max=min(5.0, max(self.retry_seconds / 3, 0.5)),
                wait_jitter=0.5,
            ):
                with attempt:
                    response = self._http.request(method, path, **kwargs)
                    if response.status_code >= 500 or response.status_code == 429:
                        raise _RetryableAnswer(response)
        except httpx.TransportError as exc:
            if (problem := _certificate_problem(exc)) is not None:
                raise CertificateRefused(
                    _(
                        "HQ at {url} presented a certificate that is not the one this gate pinned at enrolment "
                        "({problem}): nothing was sent to it. If HQ really has a new certificate, enrol the gate "
                        "again with the --tls-fingerprint `pocket-hq gates token` prints; otherwise something "
                        "between this gate and HQ is posing as HQ: call the district"
                    ).format(url=self.url, problem=problem.verify_message)
                ) from exc
            raise HqUnreachable(
                _("HQ at {url} is unreachable: {error}").format(url=self.url, error=f"{exc.__class__.__name__}: {exc}")
            ) from exc
        except httpx.DecodingError as exc:
            raise HqUnreachable(
                _("HQ's answer to {path} arrived damaged (DecodingError: {error}); trying again at the next sync").format(
                    path=path, error=exc
                )
            ) from exc
        except _RetryableAnswer as exc:
            raise HqUnreachable(str(exc)) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise SyncError(
                _("talking to HQ at {url} failed: {error}").format(url=self.url, error=f"{exc.__class__.__name__}: {exc}")
            ) from exc
        if response.status_code >= 400:
            raise HqRefused(response.status_code, _detail(response))
        return response

    def _retry(self, exc: Exception) -> bool | float:
        return not self._should_stop() and _retry_hook(exc)

    def whoami(self) -> GateInfo:
        return _parse(GateInfo, self._request("GET", "/v1/gate"))

    def upload(self, batch: Batch) -> UploadReceipt:
        body = batch.body()
        response = self._request(
            "POST", f"/v1/gates/{batch.gate}/entries", content=body, headers={"Content-Type": "application/json"}
        )
        return _parse(UploadReceipt, response)

    def report_days(self, report: DayReport) -> DayReceipt | None:
        """Send the gate's own counts of finished days; None from an HQ without the route (404): an older HQ."""
        try:
            response = self._request(
                "POST",
                f"/v1/gates/{report.gate}/days",
                content=report.model_dump_json().encode(),
                headers={"Content-Type": "application/json"},
            )
        except HqRefused as exc:
            if exc.status == 404:
                return None
            raise
        return _parse(DayReceipt, response)

    def report_incidents(self, report: IncidentReport) -> IncidentReceipt | None:
        """Send red-code incidents; None from an HQ without the route (404): an older HQ."""
        try:
            response = self._request(
                "POST",
                f"/v1/gates/{report.gate}/incidents",
                content=report.model_dump_json().encode(),
                headers={"Content-Type": "application/json"},
            )
        except HqRefused as exc:
            if exc.status == 404:
                return None
            raise
        return _parse(IncidentReceipt, response)

    def report_duty(self, gate_id: str, body: dict[str, Any]) -> DutyReceipt | None:
        """Send duty events (`kiosk.duty_log`); None from an HQ without the route (404): an older HQ."""
        try:
            response = self._request(
                "POST", f"/v1/gates/{gate_id}/duty", content=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            )
        except HqRefused as exc:
            if exc.status == 404:
                return None
            raise
        return _parse(DutyReceipt, response)

    def bundle(self, gate_id: str, have_version: int, *, retry: bool = True) -> bytes | None:
        """The signed bundle, or None when HQ says the gate's version is current (304); `retry=False` asks once."""
        response = self._request(
            "GET", f"/v1/gates/{gate_id}/bundle", headers={"If-None-Match": f'"v{have_version}"'}, retry=retry
        )
        return None if response.status_code == 304 else response.content

    def wait_for_bundle(self, gate_id: str, after: int, seconds: float) -> int | None:
        """Ask once, holding the request open up to `seconds`, for this gate's bundle version once it is past
        `after` (HQ answers with the version it has when the time is up); None from an HQ that does not offer
        it (404). Transport errors and 5xx/429 are raised as they are, for the caller's backoff (`_retry_hook`)."""
        response = self._http.get(
            f"/v1/gates/{gate_id}/bundle/wait",
            params={"after": after, "seconds": seconds},
            timeout=httpx.Timeout(seconds + self.timeout, connect=min(self.timeout, 10.0)),
        )
        if response.status_code == 404:
            return None
        if response.status_code >= 500 or response.status_code == 429:
            raise _RetryableAnswer(response)
        if response.status_code >= 400:
            raise HqRefused(response.status_code, _detail(response))
        notice: BundleNotice = _parse(BundleNotice, response)
        return notice.version


def _parse(model: Any, response: httpx.Response) -> Any:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise SyncError(
            _("HQ's answer to {path} is not understood: {error}").format(
                path=response.request.url.path, error=exc.errors()[0]["msg"]
            )
        ) from exc


MAX_INCIDENT_ROUNDS = 10
"""Reports of `MAX_INCIDENTS_SENT` incidents sent in one sync at most (more wait for the next)."""


class SyncService:
    """Uploads this gate's log to HQ and applies HQ's bundle. One instance per gate; `run_once` and `run` are
    meant for one worker thread, `status` and `wake` may be called from any thread."""

    def __init__(
        self,
        config: KioskConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        retry_seconds: float | None = None,
    ) -> None:
        """`retry_seconds` overrides the config's `sync_retry_seconds` for this service (the kiosk's background
        worker keeps it short: it tries again at the next interval anyway)."""
        self.config = config
        self._transport = transport
        self._retry_seconds = config.sync_retry_seconds if retry_seconds is None else retry_seconds
        self._store: GateStore | None = None
        self._state: SyncState | None = None
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._days_unheard = False
        self._duty_unheard = False
        """True once HQ answered that it takes no duty events (an HQ older than proof of duty)."""
        """True once HQ answered that it takes no day counts (an HQ older than daily reconciliation)."""
        self._listening: HqClient | None = None
        """The client of `listen`'s request held open at HQ, closed by `run` when it stops, to end it at once."""

    # -- local state -------------------------------------------------------------------------------------

    def _open(self) -> SyncState:
        with self._lock:
            if self._state is None:
                self._store = GateStore(self.config.database, self.config.gate_id)
                self._state = SyncState(self._store)
            return self._state

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
            self._store = self._state = None

    def status(self, *, uploaded: int = 0, bundle_change: BundleChange | None = None) -> SyncStatus:
        """The status from the gate's database alone (no network); a database that cannot be read is an ERROR
        status saying why, not an exception."""
        try:
            state = self._open()
        except (StoreError, sqlite3.Error) as exc:
            return self._read_only_status(exc)
        return read_status(state, enrolled=self.enrolled, uploaded=uploaded, bundle_change=bundle_change)

    def _read_only_status(self, failure: Exception) -> SyncStatus:
        """The status when the gate database cannot be opened for writing (a read-only disk, a file it may not
        write): what it records, read read-only, so the status still tells how many entries wait. An ERROR all
        the same: sync cannot move on. When even reading fails, how many wait is unknown."""
        try:
            with GateStore(self.config.database, self.config.gate_id, read_only=True) as store:
                found = read_status(SyncState(store, migrate=False), enrolled=self.enrolled)
        except (StoreError, sqlite3.Error):
            return store_failure(failure)
        if found.entries_waiting is None:
            return store_failure(failure)
        return replace(found, connection=Connection.ERROR, last_error=_("gate database (read-only): {error}").format(error=failure))

    @property
    def enrolled(self) -> bool:
        return is_enrolled(self.config)

    # -- one sync ----------------------------------------------------------------------------------------

    def run_once(
        self,
        progress: Callable[[SyncProgress], None] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> SyncStatus:
        """Upload what is waiting, then fetch and apply HQ's bundle. Never raises for network, HQ, bundle or
        database trouble: that is in the returned status (and stored, for the next `status()`)."""
        try:
            return self._run_once(progress, should_stop)
        except (StoreError, sqlite3.Error) as exc:
            return store_failure(exc)

    def _run_once(self, progress: Callable[[SyncProgress], None] | None, should_stop: Callable[[], bool]) -> SyncStatus:
        state = self._open()
        if not self.enrolled:
            return self.status()
        tally = _Tally()
        errors: list[str] = []
        outcome = Connection.ONLINE
        try:
            client = self._client(should_stop)
        except SyncError as exc:
            state.note_attempt(datetime.now(UTC), Connection.ERROR, str(exc))
            return self.status()
        with client:
            unreachable = False
            try:
                self._send_incidents(client, state)
                self._upload(client, state, tally, progress, should_stop)
            except CertificateRefused as exc:
                state.note_attempt(datetime.now(UTC), Connection.ERROR, str(exc))
                return self.status()
            except HqUnreachable as exc:
                errors.append(str(exc))
                outcome, unreachable = Connection.OFFLINE, True
            except (SyncError, StoreError) as exc:
                errors.append(_("upload: {error}").format(error=exc))
                outcome = Connection.ERROR
            refused = refusal_summary(state.refused_entries())
            if refused:
                errors.insert(0, refused)
                outcome = Connection.ERROR
            # The lists are fetched whatever became of the upload: a gate whose entries HQ will not take still
            # gets the new red list. After an upload that found no HQ, once, without the retry budget again.
            if not should_stop():
                try:
                    tally.bundle_change = self._fetch_bundle(client, state, retry=not unreachable)
                except HqUnreachable as exc:
                    errors.append(_("lists not fetched either") if unreachable else str(exc))
                    outcome = Connection.OFFLINE if outcome is Connection.ONLINE else outcome
                except (SyncError, BundleError, SigningKeyError, StoreError) as exc:
                    errors.append(_("bundle: {error}").format(error=exc))
                    outcome = Connection.ERROR
            # Then the counts of the days finished and uploaded whole, in the zone the bundle just named.
            if outcome is not Connection.OFFLINE and not should_stop():
                try:
                    self._report_days(client, state)
                except HqUnreachable as exc:
                    errors.append(str(exc))
                    outcome = Connection.OFFLINE if outcome is Connection.ONLINE else outcome
                except (SyncError, StoreError, ExportError) as exc:
                    errors.append(_("day counts: {error}").format(error=exc))
                    outcome = Connection.ERROR
            # Then the duty events (shift, camera, lists), for HQ's duty timeline.
            if outcome is not Connection.OFFLINE and not should_stop():
                try:
                    self._report_duty(client, state)
                except HqUnreachable as exc:
                    errors.append(str(exc))
                    outcome = Connection.OFFLINE if outcome is Connection.ONLINE else outcome
                except (SyncError, StoreError) as exc:
                    errors.append(_("duty events: {error}").format(error=exc))
                    outcome = Connection.ERROR
        state.note_attempt(datetime.now(UTC), outcome, "; ".join(errors) or None)
        return self.status(uploaded=tally.uploaded, bundle_change=tally.bundle_change)

    def _client(self, should_stop: Callable[[], bool]) -> HqClient:
        assert self.config.hq_url and self.config.hq_token_file
        try:
            token = self.config.hq_token_file.read_text().strip()
        except OSError as exc:
            raise NotEnrolled(
                _("cannot read the HQ token file {path}: {error}").format(path=self.config.hq_token_file, error=exc.strerror)
            ) from exc
        if not token:
            raise NotEnrolled(_("the HQ token file {path} is empty; enrol again").format(path=self.config.hq_token_file))
        verify: ssl.SSLContext | bool = True
        if self.config.hq_cert_file is not None:
            try:
                verify = pinned_context(self.config.hq_cert_file.read_bytes())
            except (OSError, ssl.SSLError, ValueError) as exc:
                raise NotEnrolled(
                    _("cannot use HQ's pinned certificate {path} ({error}); enrol again").format(
                        path=self.config.hq_cert_file, error=exc
                    )
                ) from exc
        return HqClient(
            self.config.hq_url,
            token,
            timeout=self.config.sync_timeout_seconds,
            retry_seconds=self._retry_seconds,
            transport=self._transport,
            should_stop=should_stop,
            verify=verify,
        )

    def _upload(
        self,
        client: HqClient,
        state: SyncState,
        tally: _Tally,
        progress: Callable[[SyncProgress], None] | None,
        should_stop: Callable[[], bool],
    ) -> None:
        total = state.entries_waiting()
        # Entries logged during the upload are taken too, up to one batch more; the rest waits for next time.
        budget = total + self.config.sync_batch_entries
        sent = 0
        while sent < budget and not should_stop():
            batch = next_batch(
                state.store, state.record().upload_cursor, self.config.sync_batch_entries, self.config.sync_batch_bytes
            )
            if batch is None:
                return
            if isinstance(batch, Unsendable):
                state.advance_cursor(batch.seq, refused=[(batch.seq, batch.id, AlertKind.REFUSED.value, batch.reason)])
                sent += 1
                continue
            receipt = client.upload(batch)
            if receipt.through_seq != batch.last_seq or receipt.gate != batch.gate:
                raise SyncError(
                    _("HQ acknowledged up to {seq}, not the batch sent; not moving on").format(seq=receipt.through_seq)
                )
            refused = _refused(batch, receipt)
            state.advance_cursor(
                receipt.through_seq, alerts=0 if receipt.replayed else len(receipt.alerts), refused=refused
            )
            sent += len(batch.rows)
            tally.uploaded += len(batch.rows) - len(refused)
            if progress is not None:
                progress(SyncProgress(sent=sent, total=max(total, sent)))

    def _send_incidents(self, client: HqClient, state: SyncState) -> None:
        """Send the red-code incidents HQ has not had, before any entry: HQ's overview shows them at once however
        long the backlog behind them. Marked sent once HQ has them (sending one again changes nothing at HQ)."""
        for _round in range(MAX_INCIDENT_ROUNDS):
            waiting = incidents.unsent(state.store, MAX_INCIDENTS_SENT)
            if not waiting or client.report_incidents(IncidentReport(gate=state.store.gate_id, incidents=waiting)) is None:
                return
            incidents.mark_sent(state.store, [i.id for i in waiting])

    def _report_days(self, client: HqClient, state: SyncState) -> None:
        """Send HQ the counts of the days finished and uploaded whole since the last report
        (`kiosk.uplink.day_reports`), and remember how far HQ took them."""
        if self._days_unheard:
            return
        report = due_report(self.config, state, datetime.now(UTC))
        if report is None:
            return
        if client.report_days(report) is None:
            self._days_unheard = True
            return
        state.note_days_reported(date.fromisoformat(report.days[-1].day))

    def _report_duty(self, client: HqClient, state: SyncState) -> None:
        """Send HQ the duty events it has not acknowledged, a batch at a time (bounded by how many wait)."""
        if self._duty_unheard:
            return
        log = DutyLog(state.store)
        for _batch in range(1 + log.waiting_count() // DUTY_BATCH_EVENTS):
            events = log.waiting(DUTY_BATCH_EVENTS)
            if not events:
                return
            receipt = client.report_duty(self.config.gate_id, duty_batch_body(self.config.gate_id, events))
            if receipt is None:
                self._duty_unheard = True
                return
            log.acknowledge(receipt.through_seq)

    def _fetch_bundle(self, client: HqClient, state: SyncState, *, retry: bool = True) -> BundleChange | None:
        assert self.config.hq_key_file
        try:
            pem = self.config.hq_key_file.read_bytes()
        except OSError as exc:
            raise NotEnrolled(
                _("cannot read HQ's pinned key {path}: {error}; enrol again").format(
                    path=self.config.hq_key_file, error=exc.strerror
                )
            ) from exc
        key = load_public_key(pem, label=str(self.config.hq_key_file))
        data = client.bundle(self.config.gate_id, state.record().bundle_version, retry=retry)
        now = datetime.now(UTC)
        applied = None
        if data is not None:
            content, signer = verify_signed_bundle(data, key)
            applied = state.apply_bundle(content, now)
            if key_id(signer) != key_id(key):  # HQ rotated its signing key and the pinned one endorsed the new one
                write_atomic(self.config.hq_key_file, public_pem(signer).encode())
        if applied is None:
            state.confirm_bundle(now)  # HQ says the lists in force are current: they are not stale
        id_keys.retire_district_key(state.store, self.config.district_key_file, now)
        return applied

    # -- background loop ---------------------------------------------------------------------------------

    def wake(self) -> None:
        """Sync now rather than at the end of the current wait (thread-safe)."""
        self._wake.set()

    def listen(self, should_stop: Callable[[], bool], *, seconds: float = LISTEN_SECONDS) -> None:
        """Hold a request open at HQ that answers when this gate's bundle changes (a list, pass, policy or key
        applied at HQ), and `wake` the sync loop at once when it does, until `should_stop()`. Reconnects with
        backoff and jitter (stamina) after a failure; returns when HQ refuses (the sync loop shows why) or
        does not offer it (an older HQ: the interval alone then)."""
        if not self.enrolled:
            return
        try:
            client = self._client(should_stop)
        except SyncError:
            return  # the sync loop reports it
        self._listening = client
        with client:
            after = self.status().bundle_version
            while not should_stop():
                try:
                    for attempt in stamina.retry_context(
                        on=lambda exc: not should_stop() and _retry_hook(exc),
                        attempts=None,
                        timeout=None,
                        wait_initial=1.0,
                        wait_max=60.0,
                        wait_jitter=1.0,
                    ):
                        with attempt:
                            version = client.wait_for_bundle(self.config.gate_id, after, seconds)
                except (SyncError, _RetryableAnswer, httpx.HTTPError, RuntimeError):
                    return  # RuntimeError: `run` closed the client as it stopped
                if version is None:
                    return
                if version > after:
                    after = version
                    self.wake()

    def run(
        self,
        should_stop: Callable[[], bool],
        on_status: Callable[[SyncStatus], None],
        *,
        interval: float | None = None,
        tick: float = 0.25,
    ) -> None:
        """Sync every `interval` seconds (default: the config's) until `should_stop()` is true; it is checked
        at least every `tick` seconds while waiting and between batches. Each run's status goes to
        `on_status`, the local status once before the first run. With `sync_listen` (the default), a thread
        also waits on HQ for a new bundle and wakes this loop when one is published (`listen`), from the bundle
        the first run left in force, so the bundle that run fetched does not wake the loop a second time."""
        every = interval if interval is not None else self.config.sync_interval_seconds
        try:
            self._run(should_stop, on_status, every, tick)
        finally:
            if self._listening is not None:
                self._listening.close()

    def _run(
        self, should_stop: Callable[[], bool], on_status: Callable[[SyncStatus], None], every: float, tick: float
    ) -> None:
        on_status(self.status())
        listener_due = self.config.sync_listen and self.enrolled
        while not should_stop():
            self._wake.clear()
            on_status(self.run_once(should_stop=should_stop))
            if listener_due:
                listener_due = False
                threading.Thread(target=self.listen, args=(should_stop,), name="hq-bundle-listener", daemon=True).start()
            deadline = time.monotonic() + every
            while not should_stop():
                left = deadline - time.monotonic()
                if left <= 0 or self._wake.wait(min(tick, left)):
                    break


def next_batch(store: GateStore, cursor: int, most_entries: int, most_bytes: int) -> Batch | Unsendable | None:
    """The next entries after the cursor, as the gate stored them, capped by count and bytes. An entry that
    cannot be put on the wire at all (a number JSON cannot carry, a size HQ never takes) comes alone, as
    `Unsendable`, and is kept back as refused instead of blocking the ones after it. (Network uploads and stick
    exports, `kiosk.uplink.stick`, make their batches here alike.)"""
    rows = store.entries(after_seq=cursor, limit=most_entries)
    if not rows:
        return None
    chosen: list[bytes] = []
    size = 0
    for row in rows:
        try:
            text = json.dumps(row, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
        except ValueError:  # the one thing json refuses in a row of text, integers and floats
            odd = ", ".join(f"{k} is {v}" for k, v in row.items() if isinstance(v, float) and not math.isfinite(v))
            problem = f"this gate cannot send it: {odd}, a number JSON cannot carry"
        else:
            too_big = len(text) > MAX_BODY_BYTES - _ENVELOPE_BYTES
            problem = f"this gate cannot send it: {len(text)} bytes, more than HQ takes in one request" if too_big else ""
        if problem:
            if chosen:
                break
            return Unsendable(row["seq"], str(row["id"]), problem)
        size += len(text) + 1
        if chosen and size > most_bytes:
            break
        chosen.append(text)
    kept = rows[: len(chosen)]
    digest = hashlib.sha256(b"\n".join(chosen)).hexdigest()
    batch_id = f"{kept[0]['seq']}-{kept[-1]['seq']}-{digest[:32]}"
    return Batch(store.gate_id, batch_id, kept, chosen)


_ENVELOPE_BYTES = 4096
"""Room in a request body for what surrounds the entries (protocol, gate, batch id)."""


@dataclass(frozen=True)
class Batch:
    """A run of entries as the gate stored them, with each one's JSON as it goes on the wire (`UploadBatch` is
    its shape): HQ judges every entry itself, so the gate sends them all rather than stopping at one it might
    think HQ will not take."""

    gate: str
    batch_id: str
    rows: list[dict[str, Any]]
    encoded: list[bytes]

    @property
    def last_seq(self) -> int:
        return int(self.rows[-1]["seq"])

    def body(self) -> bytes:
        head = json.dumps({"protocol": ENTRIES_PROTOCOL, "gate": self.gate, "batch_id": self.batch_id})
        return head[:-1].encode() + b',"entries":[' + b",".join(self.encoded) + b"]}"


@dataclass(frozen=True)
class Unsendable:
    """An entry that cannot go on the wire; kept at the gate as refused, with the reason."""

    seq: int
    id: str
    reason: str


def _refused(batch: Batch, receipt: UploadReceipt) -> list[tuple[int, str, str, str]]:
    """The batch's entries HQ did not take, as (seq, id, kind, reason), by the gate's own ids. An HQ from before
    receipts named refusals only counts them; its refused entries are those it raised a `rewritten` or
    `edited` alert for (an edited entry it stored as evidence is then kept here too: over-cautious, not lost)."""
    ids = {int(row["seq"]): str(row["id"]) for row in batch.rows}
    named = [(r.seq, r.kind.value, r.reason) for r in receipt.refusals if r.seq in ids]
    if receipt.refused > len(named):
        named += [
            (a.seq, a.kind.value, a.detail)
            for a in receipt.alerts
            if a.kind in (AlertKind.REWRITTEN, AlertKind.EDITED) and a.seq in ids and a.seq not in {n[0] for n in named}
        ]
    return [(seq, ids[seq], kind, reason) for seq, kind, reason in named]


@dataclass
class _Tally:
    """What one run did so far."""

    uploaded: int = 0
    bundle_change: BundleChange | None = None
