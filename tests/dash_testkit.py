"""Test support for the staff dashboard: entries made by a real gate store and ingested by HQ's real ingest,
staff accounts, a signed-in httpx client that speaks the dashboard's forms (CSRF tokens included), and a walk
through a paged list's pages by their links.

Import the fixtures a test module uses, as with tests/sync_testkit.py.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest

from sync.core.codes.base import Colour
from sync.core.identity import subject_hash
from sync.core.policy import Decision, Direction, Verdict
from kiosk.store import EntryDraft, GateStore
from sync.hq.db import HqDatabase
from sync.hq.gates import add_gate
from sync.hq.ingest import ingest
from sync.hq.staff import Role, add_user
from sync.core.protocol import UploadBatch, WireEntry
from tests.helpers import make_resident_id

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Event:
    """One passage to record at a gate."""

    when: datetime
    subject: str | None
    direction: Direction = Direction.IN
    decision: Decision = Decision.PASS
    colour: Colour | None = Colour.GREEN
    reasons: tuple[str, ...] = ("green code", "resident")
    name: str = "Z**** S**"
    operator: str = "keeper-1"
    details: dict[str, str] = field(default_factory=dict)


def person(district_key: bytes, serial: int) -> tuple[str, str]:
    """A valid resident ID number and its subject under the district key."""
    id_number = make_resident_id(serial)
    return id_number, subject_hash(district_key, id_number)


def record(folder: Path, gate_id: str, events: Sequence[Event]) -> list[dict[str, Any]]:
    """Record the events in a real gate store (its hash chain); the store's rows, as the gate would upload them."""
    folder.mkdir(parents=True, exist_ok=True)
    with GateStore(folder / f"{gate_id}.db", gate_id) as store:
        for event in sorted(events, key=lambda e: e.when):
            verdict = Verdict(event.decision, event.reasons, event.colour)
            draft = EntryDraft(
                direction=event.direction, code_type="PGC1", verdict=verdict, subject=event.subject, name=event.name,
                temperature=36.6, operator=event.operator, details=event.details,
            )
            store.record(draft, now=event.when)
        return store.entries()


def ingest_rows(db: HqDatabase, gate_id: str, rows: Sequence[dict[str, Any]], received: datetime | None = None) -> None:
    """Hand a gate's rows to HQ's ingest in batches, as received at `received` (default now): that is the gate's
    last contact as far as HQ knows."""
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        batch = UploadBatch(gate=gate_id, batch_id=f"b{start}", entries=[WireEntry.model_validate(r) for r in chunk])
        ingest(db, gate_id, batch, now=received)


def record_and_ingest(
    db: HqDatabase, folder: Path, gate_id: str, events: Sequence[Event], enrol: bool = True,
    received: datetime | None = None,
) -> list[dict[str, Any]]:
    """Record the events in a real gate store, then hand its rows to HQ's ingest (see `ingest_rows`)."""
    if enrol:
        add_gate(db, gate_id)
    rows = record(folder, gate_id, events)
    ingest_rows(db, gate_id, rows, received)
    return rows


def make_user(db: HqDatabase, username: str, role: Role = Role.VIEWER) -> str:
    add_user(db, username, PASSWORD, role)
    return username


_TOKEN = re.compile(r'name="(csrf_token|login_token)" value="([^"]+)"')


def tokens(html: str) -> dict[str, str]:
    return dict(_TOKEN.findall(html))


class Staff:
    """A browser-like httpx client signed in to the dashboard."""

    def __init__(
        self, base_url: str, username: str, password: str = PASSWORD, verify: ssl.SSLContext | bool = True
    ) -> None:
        self.client = httpx.Client(base_url=base_url, follow_redirects=False, timeout=30, verify=verify)
        login = self.client.get("/login")
        answer = self.client.post(
            "/login", data={"username": username, "password": password, "login_token": tokens(login.text)["login_token"]}
        )
        assert answer.status_code == 303, answer.text
        self.csrf = tokens(self.client.get("/").text)["csrf_token"]

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(path, params=params or None)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)

    def close(self) -> None:
        self.client.close()


_NEXT = re.compile(r'rel="next" href="\?([^"]+)"')
_PREV = re.compile(r'rel="prev" href="\?([^"]+)"')
MAX_PAGES = 20


def walk_pages(staff: Staff, path: str, rows: Callable[[str], list[str]], **params: Any) -> list[list[str]]:
    """Each page's rows (as `rows` reads them from its HTML), from a paged list's first page on, following its
    'next' links as a browser would (at most MAX_PAGES pages). The last page's 'previous' link must lead back
    to the rows of the page before it."""
    html = [staff.get(path, **params).text]
    while (link := _NEXT.search(html[-1])) is not None:
        assert len(html) < MAX_PAGES, f"{path} has more than {MAX_PAGES} pages"
        html.append(staff.client.get(f"{path}?{unescape(link.group(1))}").text)
    pages = [rows(page) for page in html]
    if len(html) >= 2:
        back = _PREV.search(html[-1])
        assert back is not None, f"{path}: the last page has no link back"
        assert rows(staff.client.get(f"{path}?{unescape(back.group(1))}").text) == pages[-2]
    return pages


def assert_paged(pages: list[list[str]], expected: Sequence[str]) -> None:
    """The pages hold exactly `expected`, in its order, each row once, over at least two non-empty pages."""
    assert len(pages) >= 2 and all(pages), [len(p) for p in pages]
    shown = [row for page in pages for row in page]
    assert len(shown) == len(set(shown)), "a row was shown twice"
    assert shown == list(expected)


@pytest.fixture
def staff_client() -> Iterator[Any]:
    """staff_client(base_url, username) -> a signed-in Staff, closed after the test."""
    made: list[Staff] = []

    def _make(base_url: str, username: str, password: str = PASSWORD) -> Staff:
        client = Staff(base_url, username, password)
        made.append(client)
        return client

    yield _make
    for client in made:
        client.close()
