"""Reads off the primary, against a real streaming replica of the test server (`.ci/replica`): HQ started with
`read_db` traces from the replica and its overview reads there, each page saying how far behind the primary the
replica is; what must read its own writes (the admin pages) reads the primary; an unreachable replica leaves the
primary to answer, and the pages say so.

The replica's replay is paused to make it fall behind (it keeps receiving the primary's changes and applies them
when resumed), so what each page read is plain to see.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.city_testkit import free_port, replay, replica_of
from tests.dash_testkit import Event, Staff, make_user, person, record_and_ingest
from tests.sync_testkit import (  # noqa: F401 - fixtures
    RunningHq,
    _postgres_database,
    issuer_keys,
    signing_key_file,
    start_hq,
    wait_until,
)

import psycopg

from sync.core.identity import load_district_key
from sync.hq.app import create_app
from sync.hq.db import DatabaseError
from sync.hq.settings import HqSettings
from sync.hq.staff import Role

pytestmark = pytest.mark.postgres
NOW = datetime.now(UTC).replace(second=0, microsecond=0)
WINDOW = {"from": (NOW - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
          "to": (NOW + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")}


def _schema_replayed(replica_url: str) -> bool:
    try:
        with psycopg.connect(replica_url, connect_timeout=3) as conn:
            return conn.execute("SELECT to_regclass('hq_processes') IS NOT NULL").fetchone() == (True,)
    except psycopg.OperationalError:  # the database itself is not there yet
        return False


@pytest.fixture(scope="module")
def replicated(
    tmp_path_factory: pytest.TempPathFactory, signing_key_file: Path, issuer_keys: Path
) -> Iterator[tuple[RunningHq, Path]]:
    for url in _postgres_database():
        replica = replica_of(url)
        for running in start_hq(url, signing_key_file, read_db=replica, district_key_file=issuer_keys / "district.key",
                                timezone="UTC"):
            wait_until(lambda: _schema_replayed(replica), "HQ's schema reaching the replica", seconds=30)
            make_user(running.db, "ada", Role.ADMIN)
            yield running, tmp_path_factory.mktemp("replicated")


def _traced(staff: Staff, subject: str) -> tuple[int, str]:
    page = staff.get("/trace/person", subject=subject, **WINDOW)
    assert page.status_code == 200, page.text[-500:]
    found = re.search(r'id="total">(\d+)<', page.text)
    note = re.search(r'id="replica">([^<]*)<', page.text)
    assert found and note, page.text[-1000:]
    return int(found.group(1)), note.group(1)


def test_tracing_reads_the_replica_and_says_how_far_behind_it_is(
    replicated: tuple[RunningHq, Path], issuer_keys: Path
) -> None:
    running, folder = replicated
    _, subject = person(load_district_key(issuer_keys / "district.key"), 1)
    record_and_ingest(running.db, folder / "north", "north-gate", [Event(NOW - timedelta(hours=2), subject)])
    staff = Staff(running.url, "ada")
    wait_until(lambda: _traced(staff, subject) == (1, "Read from the replica, which is up to date with the primary."),
               "the entry reaching the replica", seconds=30)

    replay(paused=True)
    try:
        record_and_ingest(running.db, folder / "east", "east-gate", [Event(NOW - timedelta(hours=1), subject)])
        total, note = _traced(staff, subject)
        assert total == 1, "the replica has not applied the new entry yet"
        assert re.fullmatch(r"Read from the replica, \d+ s behind the primary: it shows the database as of "
                            r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(\d+(\.\d)? (bytes|kB|MB) of changes still to apply\)\.", note), note
        overview = staff.get("/").text
        assert "behind the primary" in overview and 'data-gate="east-gate"' not in overview
        admin = staff.get("/admin/gates").text  # what must read its own writes reads the primary
        assert 'id="replica"' not in admin and "east-gate" in admin
        audit = staff.get("/admin/audit").text
        assert "trace person" in audit, "the tracing recorded on the primary is read there at once"
    finally:
        replay(paused=False)

    wait_until(lambda: _traced(staff, subject) == (2, "Read from the replica, which is up to date with the primary."),
               "the replica catching up", seconds=30)
    staff.close()


def test_an_unreachable_replica_leaves_the_primary_to_answer_and_the_pages_say_so(
    tmp_path: Path, signing_key_file: Path, issuer_keys: Path
) -> None:
    for url in _postgres_database():
        nowhere = f"postgresql://pocket:pocket@127.0.0.1:{free_port()}/{url.rpartition('/')[2]}"
        for running in start_hq(url, signing_key_file, read_db=nowhere, district_key_file=issuer_keys / "district.key",
                                timezone="UTC"):
            _, subject = person(load_district_key(issuer_keys / "district.key"), 2)
            record_and_ingest(running.db, tmp_path, "west-gate", [Event(NOW - timedelta(hours=1), subject)])
            make_user(running.db, "ada", Role.ADMIN)
            staff = Staff(running.url, "ada")
            total, note = _traced(staff, subject)
            assert total == 1
            assert note == "The read replica cannot be reached: this page was read from the primary database."
            assert 'data-gate="west-gate"' in staff.get("/").text
            staff.close()


def test_a_read_replica_needs_a_postgresql_primary(tmp_path: Path, signing_key_file: Path) -> None:
    settings = HqSettings(db=str(tmp_path / "hq.db"), signing_key_file=signing_key_file,
                          read_db="postgresql://pocket:pocket@127.0.0.1:5433/hq")
    with pytest.raises(DatabaseError, match=r"a read replica \(--read-db\) needs a PostgreSQL primary"):
        create_app(settings)
    with pytest.raises(ValueError, match="is not a postgresql:// URL: a read replica is a PostgreSQL standby"):
        HqSettings(read_db="replica.db")
