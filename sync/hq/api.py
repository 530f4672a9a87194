"""The gate API (`/v1`): who am I, upload entries, fetch my bundle. Every route is authenticated by gate.

Order of checks on an upload, so that a refused request changes nothing and costs little: token (401/403),
rate limit (429), declared and actual body size (413), JSON and the batch's shape and protocol (422), that every
entry is the caller's own (403), then the ingest transaction, which judges each entry on its own (an entry HQ
cannot take is refused alone, in the receipt). A gate that hangs up mid-upload is one line in the log.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from starlette.requests import ClientDisconnect

from sync.core.bundle import fingerprint, public_pem
from sync.core.duty import DutyBatch, DutyReceipt
from sync.hq.duty import ingest_duty
from sync.hq.gates import Authenticated, AuthError, authenticate
from sync.hq.ingest import BatchConflict, UploadRefused, ingest, read_upload, readable
from sync.hq import incidents
from sync.hq.reconcile import store_report
from sync.hq.runtime import Hq
from sync.core.protocol import (
    SUPPORTED_PROTOCOLS,
    BundleNotice,
    DayReceipt,
    DayReport,
    GateInfo,
    IncidentReceipt,
    IncidentReport,
    UploadReceipt,
)
from sync.hq.bundle_watch import MAX_WAIT_SECONDS, wait_for_version

router = APIRouter(prefix="/v1", tags=["gate sync"])
log = logging.getLogger("pocket_hq")


def hq_of(request: Request) -> Hq:
    hq: Hq = request.app.state.hq
    return hq


def _bearer(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _authorise(hq: Hq, authorization: str | None, gate_id: str | None) -> Authenticated:
    try:
        who = authenticate(hq.db, _bearer(authorization), gate_id)
    except AuthError as exc:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        raise HTTPException(exc.status, str(exc), headers=headers) from exc
    if not hq.allow(who.gate_id):
        raise HTTPException(
            429,
            f"too many requests from gate {who.gate_id} (limit {hq.settings.rate_limit})",
            headers={"Retry-After": str(hq.retry_after(who.gate_id))},
        )
    return who


def any_gate(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Authenticated:
    """The gate the bearer token belongs to."""
    return _authorise(hq_of(request), authorization, None)


def this_gate(
    request: Request, gate_id: str, authorization: Annotated[str | None, Header()] = None
) -> Authenticated:
    """The gate in the path, when the bearer token is that gate's."""
    return _authorise(hq_of(request), authorization, gate_id)


@router.get("/gate", response_model=GateInfo)
def whoami(request: Request, who: Annotated[Authenticated, Depends(any_gate)]) -> GateInfo:
    """Which gate this token belongs to, how far HQ holds its chain, and HQ's signing key (for enrolment)."""
    hq = hq_of(request)
    now = datetime.now(UTC)
    hq.sightings.note(who.gate_id, now)
    return GateInfo(
        gate=who.gate_id,
        chain_seq=who.chain_seq,
        chain_hash=who.chain_hash,
        bundle_version=hq.publisher.version(who.gate_id),
        signing_key_pem=public_pem(hq.signing_key),
        signing_key_fingerprint=fingerprint(hq.signing_key),
        server_time=now,
    )


class _HungUp(Exception):
    """The client closed the connection before its request body arrived whole."""


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body of {declared} bytes is larger than the {limit} HQ accepts; send smaller batches")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HTTPException(413, f"body is larger than the {limit} bytes HQ accepts; send smaller batches")
            chunks.append(chunk)
    except ClientDisconnect:
        raise _HungUp(f"after {size} of {declared or 'an unknown number of'} bytes") from None
    return b"".join(chunks)


@router.post("/gates/{gate_id}/entries", response_model=UploadReceipt)
async def upload(request: Request, who: Annotated[Authenticated, Depends(this_gate)]) -> UploadReceipt | Response:
    """Store a batch of this gate's entries; a batch sent again is answered without being stored twice."""
    hq = hq_of(request)
    try:
        body = await _body(request, hq.settings.max_body_bytes)
    except _HungUp as exc:
        log.warning("gate %s hung up mid-upload %s; nothing stored, it sends the batch again", who.gate_id, exc)
        return Response(status_code=400)  # nobody is left to read it
    try:
        batch = read_upload(body, who.gate_id)
    except UploadRefused as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    try:
        return await run_in_threadpool(ingest, hq.db, who.gate_id, batch, None, hq.secrets)
    except BatchConflict as exc:
        raise HTTPException(409, str(exc)) from exc


DAY_REPORT_BYTES = 64 * 1024
"""A day report is a few hundred bytes a day, at most `MAX_DAYS_REPORTED` days."""


@router.post("/gates/{gate_id}/days", response_model=DayReceipt)
async def report_days(request: Request, who: Annotated[Authenticated, Depends(this_gate)]) -> DayReceipt | Response:
    """The gate's own counts of days it finished and uploaded whole, kept (the latest per day) for daily
    reconciliation on the dashboard (`sync.hq.reconcile`)."""
    hq = hq_of(request)
    try:
        body = await _body(request, DAY_REPORT_BYTES)
    except _HungUp:
        return Response(status_code=400)
    try:
        report = DayReport.model_validate_json(body)
    except ValidationError as exc:
        raise HTTPException(422, readable(exc, "day report")) from exc
    if report.protocol not in SUPPORTED_PROTOCOLS:
        raise HTTPException(422, f"protocol {report.protocol} is not spoken here; HQ speaks {sorted(SUPPORTED_PROTOCOLS)}")
    if report.gate != who.gate_id:
        raise HTTPException(403, f"gate {who.gate_id} can only report its own days, not those of {report.gate}")

    def keep() -> int:
        with hq.db.begin() as conn:
            return store_report(conn, report, datetime.now(UTC))

    return DayReceipt(gate=who.gate_id, stored=await run_in_threadpool(keep))


INCIDENT_REPORT_BYTES = 512 * 1024
"""At most `MAX_INCIDENTS_SENT` incidents of a few hundred bytes each."""


@router.post("/gates/{gate_id}/incidents", response_model=IncidentReceipt)
async def report_incidents(request: Request, who: Annotated[Authenticated, Depends(this_gate)]) -> IncidentReceipt | Response:
    """Red-code incidents, sent by the gate ahead of its entry backlog: each kept once, open on the overview
    until an official closes it (`sync.hq.incidents`)."""
    hq = hq_of(request)
    try:
        body = await _body(request, INCIDENT_REPORT_BYTES)
    except _HungUp:
        return Response(status_code=400)
    try:
        report = IncidentReport.model_validate_json(body)
    except ValidationError as exc:
        raise HTTPException(422, readable(exc, "incident report")) from exc
    if report.protocol not in SUPPORTED_PROTOCOLS:
        raise HTTPException(422, f"protocol {report.protocol} is not spoken here; HQ speaks {sorted(SUPPORTED_PROTOCOLS)}")
    if report.gate != who.gate_id:
        raise HTTPException(403, f"gate {who.gate_id} can only report its own incidents, not those of {report.gate}")

    def keep() -> int:
        with hq.db.begin() as conn:
            return incidents.store_report(conn, report, datetime.now(UTC))

    hq.sightings.note(who.gate_id, datetime.now(UTC))
    return IncidentReceipt(gate=who.gate_id, new=await run_in_threadpool(keep))


@router.post("/gates/{gate_id}/duty", response_model=DutyReceipt)
async def report_duty(request: Request, who: Annotated[Authenticated, Depends(this_gate)]) -> DutyReceipt | Response:
    """The gate's duty events (shift, camera, lists: `sync.core.duty`), stored once each for the duty timeline."""
    hq = hq_of(request)
    try:
        body = await _body(request, hq.settings.max_body_bytes)
    except _HungUp:
        return Response(status_code=400)
    try:
        batch = DutyBatch.model_validate_json(body)
    except ValidationError as exc:
        raise HTTPException(422, readable(exc, "duty batch")) from exc
    if batch.protocol not in SUPPORTED_PROTOCOLS:
        raise HTTPException(422, f"protocol {batch.protocol} is not spoken here; HQ speaks {sorted(SUPPORTED_PROTOCOLS)}")
    if {batch.gate, *(e.gate for e in batch.events)} != {who.gate_id}:
        raise HTTPException(403, f"gate {who.gate_id} can only report its own duty")
    return await run_in_threadpool(ingest_duty, hq.db, who.gate_id, batch)


@router.get("/gates/{gate_id}/bundle")
def bundle(
    request: Request,
    who: Annotated[Authenticated, Depends(this_gate)],
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """This gate's signed bundle; 304 when the gate already has the current version (ETag "v<version>")."""
    hq = hq_of(request)
    now = datetime.now(UTC)
    version = hq.publisher.version(who.gate_id)
    etag = f'"v{version}"'
    if if_none_match is not None and etag in [tag.strip() for tag in if_none_match.split(",")]:
        hq.sightings.note(who.gate_id, now, bundle_version=version)  # the gate has the current version: confirmed
        return Response(status_code=304, headers={"ETag": etag})
    version, data = hq.publisher.signed(who.gate_id, now)
    hq.sightings.note(who.gate_id, now, bundle_version=version)
    return Response(content=data, media_type="application/json", headers={"ETag": f'"v{version}"'})



@router.get("/gates/{gate_id}/bundle/wait", response_model=BundleNotice)
async def wait_for_bundle(
    request: Request,
    who: Annotated[Authenticated, Depends(this_gate)],
    after: Annotated[int, Query(ge=0, description="the bundle version the gate has")],
    seconds: Annotated[float, Query(gt=0, le=MAX_WAIT_SECONDS, description="how long to wait at most")] = 25.0,
) -> BundleNotice:
    """Answer as soon as this gate's bundle version is past `after` (a list, pass, policy or key changed), or
    when `seconds` are up: a connected gate holds this request open and fetches its bundle when told
    (`sync.hq.bundle_watch`)."""
    hq = hq_of(request)
    hq.sightings.note(who.gate_id, datetime.now(UTC))
    version = await wait_for_version(
        hq.bundle_watch, lambda: hq.publisher.version(who.gate_id), after, seconds, request.is_disconnected
    )
    return BundleNotice(gate=who.gate_id, version=version)
