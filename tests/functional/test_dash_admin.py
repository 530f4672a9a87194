"""Admin pages against a live HQ: list CSVs checked, previewed and applied whole (or refused whole, with a clear
reason), gates enrolled and revoked, passes issued and revoked; each change reaches the gates' bundles and the
audit log."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select
from tests.dash_testkit import Staff, assert_paged, make_user, person, walk_pages
from tests.helpers import make_resident_id
from tests.sync_testkit import RunningHq, hq_db_url, issuer_keys, signing_key_file, start_hq, wait_until  # noqa: F401

from sync.core.identity import load_district_key, resident_id_check_digit, subject_hash
from sync.hq import lists, uploads
from sync.hq.tables import (
    audit_log,
    colour_list,
    gates,
    passes,
    roster,
    staged_colour_rows,
    staged_roster_rows,
    staged_uploads,
    upload_files,
)
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
    pages: list[str] = []

    def checked() -> bool:
        pages.append(admin.client.get(answer.headers["location"]).text)
        return "Checking…" not in pages[-1]

    wait_until(checked, f"the check of the uploaded {name}", seconds=60)
    return pages[-1]


def stored_files(running: RunningHq) -> int:
    """Uploaded files HQ keeps in its database until their check ends (parts of files, counted by upload)."""
    with running.db.read() as conn:
        return int(conn.execute(select(func.count(func.distinct(upload_files.c.upload_id)))).scalar_one())


def assert_copies_removed(running: RunningHq) -> None:
    """The upload's stored copy goes once its check ends (just after its state is written)."""
    wait_until(lambda: stored_files(running) == 0, "the removal of HQ's stored copy of the upload", seconds=5)


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
    assert_copies_removed(dash)

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


def last_upload(running: RunningHq) -> tuple[str, int]:
    """The state of the latest upload, and how many of its rows were read into staging."""
    with running.db.read() as conn:
        row = conn.execute(select(staged_uploads).order_by(staged_uploads.c.uploaded_at.desc()).limit(1)).one()
    return row.state, row.rows_read


def checking(running: RunningHq) -> int:
    """Uploads whose check has not ended."""
    with running.db.read() as conn:
        return conn.execute(
            select(func.count()).select_from(staged_uploads).where(staged_uploads.c.state == uploads.State.CHECKING.value)
        ).scalar_one()


def staged(running: RunningHq) -> int:
    """Rows in the staging tables, of any upload."""
    with running.db.read() as conn:
        return sum(conn.execute(select(func.count()).select_from(t)).scalar_one() for t in (staged_colour_rows, staged_roster_rows))


MANY = 12_000
"""Good rows before a bad line: more than one batch of staging (uploads.BATCH_ROWS), so that rows were staged
when the bad line was found."""


def test_a_bad_line_after_thousands_of_good_ones_refuses_the_whole_file(dash: RunningHq, key: bytes) -> None:
    lists.replace_colour_list(dash.db, colour_rows(key, [(7, "red", "kept")]))
    admin = Staff(dash.url, "ada")
    good = colour_csv([(i, "red", f"case {i}") for i in range(MANY)])
    after = colour_csv([(MANY + i, "red", "") for i in range(1, 4)]).split(b"\n", 1)[1]

    page = upload(admin, good + f"{with_wrong_check_digit(MANY)},red,\n".encode() + after)

    assert f"line {MANY + 2}: the check digit does not match" in page and "Nothing was changed" in page
    state, read = last_upload(dash)
    assert state == "failed" and read >= uploads.BATCH_ROWS, "the good rows before the bad line were staged"
    assert staged(dash) == 0
    assert list(held_colours(dash).values()) == [("red", "kept")]
    admin.close()


@functools.cache
def distinct_red_list(rows: int) -> bytes:
    """A red list of `rows` different people, with well-formed ID numbers (made once per run: a million take
    seconds)."""
    first17 = (f"1101011990{i:07d}" for i in range(rows))
    return b"id_number,colour,note\n" + "".join(f"{f}{resident_id_check_digit(f)},red,\n" for f in first17).encode()


def test_a_million_row_list_over_the_limit_is_refused_before_any_row_is_staged(dash: RunningHq, key: bytes) -> None:
    lists.replace_colour_list(dash.db, colour_rows(key, [(7, "red", "kept")]))
    admin = Staff(dash.url, "ada")
    limit = dash.settings.max_list_rows
    assert limit == 1_000_000  # the default

    page = upload(admin, distinct_red_list(limit + 1))

    assert f"has more than {limit} rows; nothing loaded" in page and "Nothing was changed" in page
    assert last_upload(dash) == ("failed", 0)
    assert staged(dash) == 0
    assert list(held_colours(dash).values()) == [("red", "kept")]
    admin.close()


@pytest.mark.parametrize("kind", ["colour", "roster"])
def test_a_list_over_the_configured_row_limit_is_refused_whole(small_dash: RunningHq, key: bytes, kind: str) -> None:
    add_gate(small_dash.db, "north-gate")
    admin = Staff(small_dash.url, "ada")
    gate = "north-gate" if kind == "roster" else ""

    def rows(count: int) -> bytes:
        return roster_csv(range(count)) if kind == "roster" else colour_csv([(i, "red", "") for i in range(count)])

    too_many = upload(admin, rows(101), kind=kind, gate=gate)
    at_limit = upload(admin, rows(100) + b"\n\n", kind=kind, gate=gate)  # blank lines are not rows

    assert "has more than 100 rows; nothing loaded" in too_many  # 100: the limit in small_dash
    assert _number(at_limit, "n-added") == 100
    assert held_colours(small_dash) == {}
    with small_dash.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(roster)).scalar_one() == 0
    admin.close()


def roster_csv(serials: Iterable[int]) -> bytes:
    """A roster CSV of the residents with these serials."""
    return ("id_number,name,unit\n" + "".join(f"{make_resident_id(i)},Zhang San,{i}-101\n" for i in serials)).encode()


def with_wrong_check_digit(serial: int) -> str:
    """The resident ID of `serial` with a wrong check digit."""
    right = make_resident_id(serial)
    return right[:-1] + ("0" if right[-1] != "0" else "1")


def held_roster(running: RunningHq) -> set[tuple[str, str, str]]:
    with running.db.read() as conn:
        return {(r.gate, r.name, r.unit) for r in conn.execute(select(roster))}


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"id,name\n110101199001010031,Zhang San\n", "lacks the column(s) id_number"),
        ("id_number,name,unit\n110101199001010031,张三,1-101\n".encode("gbk"), "is not UTF-8 text"),
        (b"id_number,name,unit\n110101199001010031,Li Si,\n110101199001010032,Li Wu,\n", "line 3: the check digit"),
        (b"", "lacks the column(s)"),
    ],
    ids=["wrong-columns", "gbk", "bad-check-digit", "empty"],
)
def test_a_bad_roster_is_refused_with_the_reason_and_nothing_changes(
    small_dash: RunningHq, key: bytes, content: bytes, words: str
) -> None:
    add_gate(small_dash.db, "north-gate")
    lists.replace_roster(small_dash.db, "north-gate", [{"subject": subject_hash(key, make_resident_id(7)), "name": "K*",
                                                         "unit": "kept"}])
    admin = Staff(small_dash.url, "ada")

    page = upload(admin, content, kind="roster", gate="north-gate", name="roster.csv")
    assert_copies_removed(small_dash)

    assert "failed" in page and words in page and "Nothing was changed" in page
    assert "pocket-hq-check-" not in page, "the message names the file as uploaded, not HQ's temporary copy"
    assert held_roster(small_dash) == {("north-gate", "K*", "kept")}
    assert staged(small_dash) == 0
    admin.close()


@pytest.mark.parametrize("late", ["bad-check-digit", "gbk"])
def test_a_roster_with_a_bad_line_after_thousands_of_good_ones_is_refused_whole(
    dash: RunningHq, key: bytes, late: str
) -> None:
    add_gate(dash.db, "north-gate")
    lists.replace_roster(dash.db, "north-gate", [{"subject": subject_hash(key, make_resident_id(7)), "name": "K*",
                                                   "unit": "kept"}])
    admin = Staff(dash.url, "ada")
    good = roster_csv(range(MANY))
    if late == "gbk":
        bad, words = f"{make_resident_id(MANY)},张三,1-101\n".encode("gbk"), "is not UTF-8 text after line"
    else:
        bad, words = f"{with_wrong_check_digit(MANY)},Li Si,1-101\n".encode(), f"line {MANY + 2}: the check digit does not match"
    after = roster_csv(range(MANY + 1, MANY + 4)).split(b"\n", 1)[1]

    page = upload(admin, good + bad + after, kind="roster", gate="north-gate")

    assert words in page and "Nothing was changed" in page
    state, read = last_upload(dash)
    assert state == "failed" and read >= uploads.BATCH_ROWS, "the roster was read as a stream, staged in batches"
    assert staged(dash) == 0
    assert held_roster(dash) == {("north-gate", "K*", "kept")}
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


def test_a_lost_gate_is_rekeyed_from_the_browser_and_the_token_never_stands_on_a_command_line(dash: RunningHq) -> None:
    admin = Staff(dash.url, "ada")
    enrolled = admin.post("/admin/gates", {"gate_id": "west-gate"})
    lost = re.search(r'id="token">([^<]+)<', enrolled.text).group(1)  # type: ignore[union-attr]
    with dash.db.read() as conn:
        generation = conn.execute(select(gates.c.key_generation).where(gates.c.gate_id == "west-gate")).scalar_one()

    rekeyed = admin.post("/admin/gates/west-gate/rekey")
    token = re.search(r'id="token">([^<]+)<', rekeyed.text).group(1)  # type: ignore[union-attr]
    enrol_line = re.search(r'id="enrol-line">([^<]+)<', rekeyed.text).group(1)  # type: ignore[union-attr]

    assert rekeyed.status_code == 200 and "Gate rekeyed: west-gate" in rekeyed.text
    assert httpx.get(dash.url + "/v1/gate", headers={"Authorization": f"Bearer {lost}"}).status_code == 401
    assert httpx.get(dash.url + "/v1/gate", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with dash.db.read() as conn:
        assert conn.execute(select(gates.c.key_generation).where(gates.c.gate_id == "west-gate")).scalar_one() == generation + 1
    assert " --token - " in enrol_line and token not in enrol_line and lost not in enrolled.text.split('id="enrol-line"')[1]
    assert "rekey gate" in admin.get("/admin/audit", action="rekey gate").text
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


# -- paging --------------------------------------------------------------------------------------------------


def test_passes_come_page_by_page_soonest_to_end_first_each_once(dash: RunningHq, key: bytes) -> None:
    admin = Staff(dash.url, "ada")
    start = re.search(r'name="from" value="([^"]+)"', admin.get("/admin/passes").text).group(1)  # type: ignore[union-attr]
    issued = []
    for i in range(60):  # each lasting an hour longer than the one before
        answer = admin.post("/admin/passes", {"id_number": person(key, i)[0], "kind": "staff", "gate": "",
                                              "from": start, "hours": str(i + 1), "note": ""})
        assert answer.status_code == 303, answer.text
        issued.append(parse_qs(urlsplit(answer.headers["location"]).query)["done"][0])

    pages = walk_pages(admin, "/admin/passes", lambda html: re.findall(r'data-pass="([^"]+)"', html), show="all")

    assert [len(p) for p in pages] == [50, 10]
    assert_paged(pages, issued)
    admin.close()


def test_uploads_still_queued_or_being_checked_when_hq_stops_are_checked_after_it_starts_again(
    tmp_path: Path, signing_key_file: Path, issuer_keys: Path
) -> None:
    """Stopping HQ stops its check at the next batch; the uploads it had not finished stay checking, their files
    kept in the database, and the next start checks each of them whole: nothing uploaded is lost."""
    db = str(tmp_path / "hq.db")
    server = start_hq(db, signing_key_file, district_key_file=issuer_keys / "district.key")
    running = next(server)
    make_user(running.db, "ada", Role.ADMIN)
    admin = Staff(running.url, "ada")
    big = colour_csv([(i, "red", "") for i in range(20_000)])  # a second or so to check: the rest queue
    for i in range(5):
        assert admin.post("/admin/lists", {"kind": "colour"},
                          files={"file": (f"list-{i}.csv", big, "text/csv")}).status_code == 303
    admin.close()
    server.close()  # HQ stops
    queued = checking(running)

    assert queued >= 2, "some checks were still waiting when HQ stopped"
    assert stored_files(running) == queued, "each upload not checked yet keeps its file"
    for again in start_hq(db, signing_key_file, district_key_file=issuer_keys / "district.key"):
        # A check ends READY first, then removes its file: wait for both, not for the first alone.
        wait_until(lambda: checking(again) == 0 and stored_files(again) == 0, "the checks of the uploads left",
                   seconds=60)
        with again.db.read() as conn:
            ended = list(conn.execute(select(staged_uploads.c.state, staged_uploads.c.rows_read)))
        assert ended == [("ready", 20_000)] * 5


def test_recent_uploads_come_page_by_page_newest_first_each_once(dash: RunningHq) -> None:
    admin = Staff(dash.url, "ada")
    for i in range(25):
        assert admin.post("/admin/lists", {"kind": "colour"},
                          files={"file": (f"list-{i}.csv", colour_csv([(i, "red", "")]), "text/csv")}).status_code == 303
    with dash.db.read() as conn:
        newest_first = list(conn.execute(select(staged_uploads.c.id).order_by(
            staged_uploads.c.uploaded_at.desc(), staged_uploads.c.id.desc())).scalars())
    # Before HQ stops: a check still running then holds a connection to the database the fixture drops.
    wait_until(lambda: checking(dash) == 0, "the checks of the 25 uploads", seconds=60)

    pages = walk_pages(admin, "/admin/lists", lambda html: re.findall(r'href="/admin/uploads/([0-9a-f]+)"', html))

    assert [len(p) for p in pages] == [20, 5]
    assert_paged(pages, newest_first)
    admin.close()


def test_an_upload_preview_comes_page_by_page_each_once(dash: RunningHq, key: bytes) -> None:
    admin = Staff(dash.url, "ada")
    rows = [(i, "red", "") for i in range(120)]
    page = upload(admin, colour_csv(rows))
    path = re.search(r'action="(/admin/uploads/[0-9a-f]+)/apply"', page).group(1)  # type: ignore[union-attr]

    pages = walk_pages(admin, path, lambda html: re.findall(r'class="subject" title="([0-9a-f]+)">', html),
                       change="added")

    assert [len(p) for p in pages] == [50, 50, 20]
    assert_paged(pages, sorted(row["subject"] for row in colour_rows(key, rows)))
    admin.close()


def test_a_red_list_preview_shows_whom_each_line_changes_by_masked_name(dash: RunningHq, key: bytes) -> None:
    """The file's names (kept masked, never whole), else a roster's at HQ; the file's line; what changes."""
    add_gate(dash.db, "north-gate")
    lists.replace_roster(dash.db, "north-gate", [{"subject": subject_hash(key, make_resident_id(3)), "name": "W*** W*",
                                                 "unit": "3-101"}])
    lists.replace_colour_list(dash.db, colour_rows(key, [(2, "yellow", ""), (3, "red", "")]))
    admin = Staff(dash.url, "ada")
    content = ("id_number,colour,note,name\n" + f"{make_resident_id(1)},red,case,Zhang Sanfeng\n"
               + f"{make_resident_id(2)},red,,Li Si\n").encode()

    page = upload(admin, content)
    preview = re.search(r'/admin/uploads/[0-9a-f]+', page).group(0)  # type: ignore[union-attr]
    shown = {change: admin.client.get(preview, params={"change": change}).text for change in ("added", "changed", "removed")}
    applied = admin.post(re.search(r'action="(/admin/uploads/[0-9a-f]+/apply)"', page).group(1))  # type: ignore[union-attr]
    admin.close()

    def rows(html: str) -> list[list[str]]:
        body = html.split('<table id="changes">', 1)[1].split("</tbody>", 1)[0].split("<tbody>", 1)[1]
        return [[" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
                for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)]

    assert rows(shown["added"]) == [
        ["2", f"Z**** S****** {subject_hash(key, make_resident_id(1))[:10]}…", "added", "", "", "red", "case"]]
    assert rows(shown["changed"]) == [
        ["3", f"L* S* {subject_hash(key, make_resident_id(2))[:10]}…", "colour changed", "yellow", "", "red", ""]]
    assert rows(shown["removed"]) == [
        ["–", f"W*** W* {subject_hash(key, make_resident_id(3))[:10]}…", "removed", "red", "", "", ""]]
    assert "Zhang Sanfeng" not in "".join(shown.values())
    assert applied.status_code == 303
    with dash.db.read() as conn:
        assert sorted(conn.execute(select(colour_list.c.name))) == [("L* S*",), ("Z**** S******",)]


def test_the_audit_log_says_why_a_list_was_refused_in_district_time_without_empty_fields(
    hq_db_url: str, signing_key_file: Path, issuer_keys: Path
) -> None:
    for running in start_hq(hq_db_url, signing_key_file, district_key_file=issuer_keys / "district.key",
                            timezone="Asia/Shanghai"):
        make_user(running.db, "ada", Role.ADMIN)
        add_gate(running.db, "north-gate")
        admin = Staff(running.url, "ada")
        upload(admin, b"id_number,colour\n110101199003070000,purple\n", name="bad.csv")
        admin.get("/trace/gate", gate="north-gate", **{"from": "2026-11-23T08:00", "to": "2026-11-23T09:00"})
        wait_until(lambda: "list refused" in admin.get("/admin/audit").text, "the refusal in the audit log", seconds=10)
        audit_page = admin.get("/admin/audit").text
        admin.close()

    def detail(action: str) -> str:
        found = re.search(rf'<td>{action}</td>\s*<td class="detail">(.*?)</td>', audit_page, re.S)
        assert found, audit_page
        return found.group(1)

    assert "why: bad.csv: nothing loaded: line 2:" in detail("list refused")
    assert "gate: None" not in audit_page
    assert "from: 2026-11-23 08:00:00" in detail("trace gate") and "+00:00" not in detail("trace gate")
