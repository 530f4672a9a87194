"""What HQ refuses, and that a refusal stores nothing: wrong, missing, revoked and other gates' tokens, oversized
and malformed bodies, another gate's entries, and a gate over its rate limit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.sync_testkit import (  # noqa: F401 - fixtures
    LimitsClock,
    MakeGate,
    RunningHq,
    hq,
    hq_db_url,
    limits_clock,
    make_gate,
    signing_key_file,
    start_hq,
)

from kiosk.uplink.status import Connection
from sync.hq.gates import revoke_gate
from sync.core.protocol import UploadBatch, WireEntry


def _body(rows: list[dict[str, object]], gate: str = "north-gate") -> bytes:
    return UploadBatch(gate=gate, batch_id="b-1", entries=[WireEntry.model_validate(r) for r in rows]).model_dump_json().encode()


@pytest.fixture
def north(hq: RunningHq, make_gate: MakeGate) -> Iterator[tuple[str, bytes]]:
    """An enrolled gate's token and a valid upload body of 3 of its entries."""
    gate = make_gate(hq, "north-gate")
    gate.log(3)
    with gate.store() as store:
        yield gate.token, _body(store.entries())


def _post(hq: RunningHq, body: bytes, token: str | None, gate: str = "north-gate", scheme: str = "Bearer") -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"{scheme} {token}"
    return httpx.post(f"{hq.url}/v1/gates/{gate}/entries", content=body, headers=headers)


@pytest.mark.parametrize(
    ("scheme", "token", "words"),
    [
        ("Bearer", None, "no gate token"),
        ("Bearer", "pgt_not-a-real-token", "unknown gate token"),
        ("Basic", "bm9ydGg6Z2F0ZQ==", "no gate token"),
    ],
    ids=["missing", "unknown", "wrong-scheme"],
)
def test_missing_or_wrong_tokens_get_401_and_store_nothing(
    hq: RunningHq, north: tuple[str, bytes], scheme: str, token: str | None, words: str
) -> None:
    answer = _post(hq, north[1], token, scheme=scheme)

    assert answer.status_code == 401 and words in answer.json()["detail"]
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert hq.entry_count() == 0


def test_another_gates_token_gets_403(hq: RunningHq, make_gate: MakeGate, north: tuple[str, bytes]) -> None:
    south = make_gate(hq, "south-gate")

    answer = _post(hq, north[1], south.token)

    assert answer.status_code == 403 and "another gate" in answer.json()["detail"]
    assert hq.entry_count() == 0


def test_a_gate_cannot_upload_another_gates_entries(hq: RunningHq, make_gate: MakeGate, north: tuple[str, bytes]) -> None:
    south = make_gate(hq, "south-gate")
    body = north[1].replace(b'"north-gate"', b'"south-gate"', 1)  # the batch says south, the entries say north

    answer = _post(hq, body, south.token, gate="south-gate")

    assert answer.status_code == 403 and "only upload its own entries" in answer.json()["detail"]
    assert hq.entry_count() == 0


def test_a_revoked_gate_is_refused_and_told_so(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, "north-gate", sync_retry_seconds=30)
    gate.log(3)
    revoke_gate(hq.db, "north-gate")

    status = gate.sync()  # not retried: test_sync_upload.py::test_a_refusal_is_shown_and_not_retried counts requests

    assert status.connection is Connection.ERROR
    assert "HQ refused (401)" in (status.last_error or "") and "revoked" in (status.last_error or "")
    assert status.entries_waiting == 3 and hq.entry_count() == 0


def test_an_oversized_body_gets_413_before_it_is_read(hq: RunningHq, north: tuple[str, bytes]) -> None:
    huge = b'{"padding": "' + b"x" * (5 * 1024 * 1024) + b'"}'

    answer = _post(hq, huge, north[0])

    assert answer.status_code == 413 and "larger than" in answer.json()["detail"]
    assert hq.entry_count() == 0


@pytest.mark.parametrize(
    ("mangle", "words"),
    [
        (lambda b: b[: len(b) // 2], "malformed batch"),
        (lambda b: b"\xff\xfe not json", "malformed batch"),
        (lambda b: re.sub(rb'"protocol":\d+', b'"protocol":99', b, count=1), "protocol 99 is not spoken here"),
        (lambda b: b'{"protocol": 1, "gate": "north-gate", "batch_id": "x", "entries": []}', "entries"),
    ],
    ids=["truncated", "not-json", "future-protocol", "empty"],
)
def test_malformed_bodies_get_422_with_a_reason(
    hq: RunningHq, north: tuple[str, bytes], mangle: object, words: str
) -> None:
    """A body that is not a batch at all. (A malformed entry in a good batch is refused alone: test_sync_wire.)"""
    answer = _post(hq, mangle(north[1]), north[0])  # type: ignore[operator]

    assert answer.status_code == 422 and words in answer.json()["detail"]
    assert hq.entry_count() == 0


def test_a_gate_over_its_rate_limit_is_told_when_to_come_back_and_then_gets_through(
    make_gate: MakeGate, hq_db_url: str, signing_key_file: Path, limits_clock: LimitsClock
) -> None:
    for limited in start_hq(hq_db_url, signing_key_file, clock=limits_clock, rate_limit="5/minute"):
        gate = make_gate(limited, "north-gate", sync_batch_entries=20, sync_retry_seconds=0)  # enrolling: 1 request
        gate.log(40)
        headers = {"Authorization": f"Bearer {gate.token}"}
        answers = [httpx.get(f"{limited.url}/v1/gate", headers=headers) for _ in range(5)]

        held = gate.sync()
        limits_clock.advance(61)  # a second past the Retry-After
        through = gate.sync()  # two uploads and the bundle: within the limit again

        assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
        assert answers[-1].headers["Retry-After"] == "60"
        assert "too many requests from gate north-gate (limit 5/minute)" in answers[-1].json()["detail"]
        assert held.connection is Connection.OFFLINE and held.entries_waiting == 40
        assert through.connection is Connection.ONLINE, through.last_error
        assert limited.entry_count() == 40
