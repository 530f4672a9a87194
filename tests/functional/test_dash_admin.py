"""Admin pages against a live HQ: list CSVs checked, previewed and applied whole (or refused whole, with a clear
reason), gates enrolled and revoked, passes issued and revoked; each change reaches the gates' bundles and the
audit log."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from tests.dash_testkit import Staff, make_user, person
from tests.helpers import make_resident_id
from tests.sync_testkit import RunningHq, hq_db_url, issuer_keys, signing_key_file, start_hq  # noqa: F401

from kiosk.identity import load_district_key, subject_hash
from sync.hq import lists
from sync.hq.db import audit_log, colour_list, passes, roster, staged_colour_rows
from sync.hq.gates import add_gate
from sync.hq.staff import Role


@pytest.fixture
def dash(hq_db_url: str, signing_key_file: Path, issuer_keys: Path) -> Iterator[RunningHq]:
    """A live HQ with the district key and an admin, 'ada' (on each backend)."""
    for running in start_hq(hq_db_url, signing_key_file, district_key_file=issuer_keys / "district.key"):
        make_user(running.db, "ada", Role.ADMIN)
        yield running


@pytest.fixture
def small_dash(tmp_path: Path, signing_key_file: Path, issuer_keys: Path) -> Iterator[RunningHq]:
    """SQLite only, with small limits: lists of at most 100 rows, uploads of at most 20 kB."""
    for running in start_hq(str(tmp_path / "hq.db"), signing_key_file, district_key_file=issuer_keys / "district.key",
                            max_list_rows=100, max_upload_mb=0.02):
        make_user(running.db, "ada", Role.ADMIN)
        yield running


@pytest.fixture
def key(issuer_keys: Path) -> bytes:
    return load_district_key(issuer_keys / "district.key")


def upload(admin: Staff, content: bytes, kind: str = "colour", gate: str = "", name: str = "list.csv") -> str:
    """Upload a file through the lists form and wait for its check; the preview page's HTML."""
    answer = admin.post("/admin/lists", {"kind": kind, "gate": gate}, files={"file": (name, content, "text/csv")})
    assert answer.status_code == 303, answer.text
    deadline = time.monotonic() + 30
    while True:
        page = admin.client.get(answer.headers["location"])
        if "Checking…" not in page.text or time.monotonic() > deadline:
            return page.text
        time.sleep(0.2)


def colour_csv(rows: list[tuple[int, str, str]]) -> bytes:
    return ("id_number,colour,note\n" + "".join(f"{make_resident_id(i)},{c},{n}\n" for i, c, n in rows)).encode()


def colour_rows(key: bytes, rows: list[tuple[int, str, str]]) -> list[dict[str, str]]:
    return [{"subject": subject_hash(key, make_resident_id(i)), "colour": c, "note": n} for i, c, n in rows]


def held_colours(running: RunningHq) -> dict[str, tuple[str, str]]:
    with running.db.read() as conn:
        return {r.subject: (r.colour, r.note) for r in conn.execute(select(colour_list))}


def _number(html: str, name: str) -> int:
    found = re.search(rf'id="{name}">(\d+)<', html)
    assert found, html[-2000:]
    return int(found.group(1))


def test_a_red_list_is_previewed_then_applied_whole(dash: RunningHq, key: bytes) -> None:
    lists.replace_colour_list(dash.db, colour_rows(key, [(1, "red", "old"), (2, "yellow", ""), (3, "red", "")]))
    admin = Staff(dash.url, "ada")

    page = upload(admin, colour_csv([(1, "red", "old"), (2, "red", "worse"), (4, "yellow", "<b>new</b>")]))

    assert [_number(page, f"n-{n}") for n in ("added", "changed", "removed", "unchanged")] == [1, 1, 1, 1]
    assert "&lt;b&gt;new&lt;/b&gt;" in page and "<b>new</b>" not in page
    assert held_colours(dash)[subject_hash(key, make_resident_id(2))] == ("yellow", ""), "a preview changes nothing"
    removed = admin.client.get(re.search(r'/admin/uploads/[0-9a-f]+', page).group(0), params={"change": "removed"})  # type: ignore[union-attr]
    assert subject_hash(key, make_resident_id(3))[:10] in removed.text
    before = dash.server.app.state.hq.publisher.version("north-gate")

    applied = admin.post(re.search(r'action="(/admin/uploads/[0-9a-f]+/apply)"', page).group(1))  # type: ignore[union-attr]

    assert applied.status_code == 303
    assert held_colours(dash) == {
        subject_hash(key, make_resident_id(1)): ("red", "old"),
        subject_hash(key, make_resident_id(2)): ("red", "worse"),
        subject_hash(key, make_resident_id(4)): ("yellow", "<b>new</b>"),
    }
    assert dash.server.app.state.hq.publisher.version("north-gate") > before
    with dash.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(staged_colour_rows)).scalar_one() == 0
        actions = [a for (a,) in conn.execute(select(audit_log.c.action).where(audit_log.c.username == "ada"))]
    assert {"upload list", "apply list"} <= set(actions)
    admin.close()


def test_a_preview_made_stale_by_another_change_is_not_applied(dash: RunningHq, key: bytes) -> None:
    admin = Staff(dash.url, "ada")
    page = upload(admin, colour_csv([(1, "red", "")]))
    lists.replace_colour_list(dash.db, colour_rows(key, [(9, "yellow", "by the command line")]))

    answer = admin.post(re.search(r'action="(/admin/uploads/[0-9a-f]+/apply)"', page).group(1))  # type: ignore[union-attr]

    assert answer.status_code == 409 and "changed after this preview was made" in answer.text
    assert list(held_colours(dash).values()) == [("yellow", "by the command line")]
    admin.close()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"id,colour\n110101199001010031,red\n", "lacks the column(s) id_number"),
        ("id_number,colour,note\n110101199001010031,red,张三\n".encode("gbk"), "is not UTF-8 text"),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xff\xfe binary spreadsheet", "is not UTF-8 text"),
        (b"id_number,colour,note\n110101199001010031,red,\n110101199001010032,red,\n", "line 3: the check digit"),
        (b"id_number,colour,note\n110101199001010031,purple,\n", "colour must be red or yellow, not 'purple'"),
        (b"", "lacks the column(s)"),
    ],
    ids=["wrong-columns", "gbk", "xlsx", "bad-check-digit", "bad-colour", "empty"],
)
def test_a_bad_list_is_refused_with_the_reason_and_nothing_changes(
    small_dash: RunningHq, key: bytes, content: bytes, words: str
) -> None:
    lists.replace_colour_list(small_dash.db, colour_rows(key, [(7, "red", "kept")]))
    admin = Staff(small_dash.url, "ada")

    page = upload(admin, content, name="red list.csv")

    assert "failed" in page and words.replace("'", "&#39;") in page and "Nothing was changed" in page
    assert 'id="form-apply"' not in page
    assert list(held_colours(small_dash).values()) == [("red", "kept")]
    with small_dash.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(staged_colour_rows)).scalar_one() == 0
    admin.close()


def test_a_bad_line_after_thousands_of_good_ones_refuses_the_whole_file(small_dash: RunningHq, key: bytes) -> None:
    admin = Staff(small_dash.url, "ada")
    rows = colour_csv([(i, "red", "") for i in range(100)])  # the limit in small_dash

    too_many = upload(admin, rows + f"{make_resident_id(100)},red,\n".encode())
    at_limit = upload(admin, rows)

    assert "has more than 100 rows" in too_many
    assert _number(at_limit, "n-added") == 100
    assert held_colours(small_dash) == {}
    admin.close()


def test_an_upload_over_the_size_limit_is_refused_before_it_is_read(small_dash: RunningHq) -> None:
    admin = Staff(small_dash.url, "ada")

    answer = admin.post("/admin/lists", {"kind": "colour"}, files={"file": ("big.csv", b"x" * 50_000, "text/csv")})

    assert answer.status_code == 413 and "larger than 0.02 MB" in answer.text
    admin.close()


def test_a_roster_upload_replaces_one_gates_roster(dash: RunningHq, key: bytes) -> None:
    add_gate(dash.db, "north-gate")
    admin = Staff(dash.url, "ada")
    content = b"id_number,name,unit\n" + "".join(
        f"{make_resident_id(i)},Zhang San {i},{i}-101\n" for i in range(1, 4)
    ).encode()

    unknown = admin.post("/admin/lists", {"kind": "roster", "gate": "nowhere"}, files={"file": ("r.csv", content, "text/csv")})
    page = upload(admin, content, kind="roster", gate="north-gate")
    admin.post(re.search(r'action="(/admin/uploads/[0-9a-f]+/apply)"', page).group(1))  # type: ignore[union-attr]

    assert unknown.status_code == 422 and "no gate nowhere is enrolled" in unknown.text
    assert _number(page, "n-added") == 3
    with dash.db.read() as conn:
        held = {(r.gate, r.name, r.unit) for r in conn.execute(select(roster))}
    assert held == {("north-gate", "Z**** S** 1", "1-101"), ("north-gate", "Z**** S** 2", "2-101"),
                    ("north-gate", "Z**** S** 3", "3-101")}
    admin.close()


def test_gates_are_enrolled_and_revoked_from_the_browser(dash: RunningHq) -> None:
    admin = Staff(dash.url, "ada")

    page = admin.post("/admin/gates", {"gate_id": "west-gate"})
    token = re.search(r'id="token">([^<]+)<', page.text).group(1)  # type: ignore[union-attr]
    works = httpx.get(dash.url + "/v1/gate", headers={"Authorization": f"Bearer {token}"})
    again = admin.post("/admin/gates", {"gate_id": "west-gate"})
    admin.post("/admin/gates/west-gate/revoke")
    refused = httpx.get(dash.url + "/v1/gate", headers={"Authorization": f"Bearer {token}"})

    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert works.status_code == 200 and works.json()["gate"] == "west-gate"
    assert again.status_code == 422 and "already enrolled" in again.text
    assert refused.status_code == 401
    admin.close()


def test_passes_are_issued_and_revoked_from_the_browser(dash: RunningHq, key: bytes) -> None:
    add_gate(dash.db, "north-gate")
    admin = Staff(dash.url, "ada")
    id_number, subject = person(key, 42)

    issued = admin.post("/admin/passes", {"id_number": id_number, "kind": "courier", "gate": "north-gate",
                                          "from": "2030-01-01T08:00", "hours": "12", "note": "parcels"})
    mistyped = admin.post("/admin/passes", {"id_number": id_number[:-1] + "0", "kind": "courier", "gate": "",
                                            "from": "2030-01-01T08:00", "hours": "12", "note": ""})

    assert issued.status_code == 303
    with dash.db.read() as conn:
        (held,) = conn.execute(select(passes)).all()
    assert (held.subject, held.kind, held.gate, held.note) == (subject, "courier", "north-gate", "parcels")
    assert id_number not in admin.get("/admin/passes").text
    assert mistyped.status_code == 422 and "check digit" in mistyped.text
    admin.post(f"/admin/passes/{held.id}/revoke")
    with dash.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(passes)).scalar_one() == 0
    audit = admin.get("/admin/audit", action="issue pass")
    assert "issue pass" in audit.text and subject in audit.text and id_number not in audit.text
    admin.close()
