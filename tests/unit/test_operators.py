"""Operators: salted PIN hashes in their own migration set, sign-in checks, shifts, and the CLI that adds them."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner

from kiosk.cli import main as kiosk_main
from kiosk.operators import OperatorBook, OperatorError
from kiosk.store import GateStore

# Cheap parameters keep the tests fast; the product uses argon2-cffi's RFC 9106 defaults.
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def book(tmp_path: Path) -> OperatorBook:
    with OperatorBook(tmp_path / "gate.db", FAST) as opened:
        yield opened


def test_right_pin_signs_in_and_wrong_pin_or_unknown_id_does_not(book: OperatorBook) -> None:
    book.add("li01", "Li Ming", "4821")
    assert book.verify("li01", "4821") is not None
    assert book.verify("li01", "4822") is None
    assert book.verify("nobody", "4821") is None


def test_pins_are_stored_only_as_salted_hashes(book: OperatorBook, tmp_path: Path) -> None:
    book.add("li01", "Li Ming", "4821")
    book.add("wang02", "Wang Fang", "4821")
    hashes = [row[0] for row in sqlite3.connect(tmp_path / "gate.db").execute("SELECT pin_hash FROM operators")]
    assert len(set(hashes)) == 2, "the same PIN must hash differently for two operators"
    assert all(h.startswith("$argon2id$") and "4821" not in h for h in hashes)


@pytest.mark.parametrize(
    ("operator_id", "name", "pin", "problem"),
    [
        ("li 01", "Li", "4821", "operator id"),
        ("li01", "", "4821", "name"),
        ("li01", "Li", "12", "4 to 12 digits"),
        ("li01", "Li", "12ab", "4 to 12 digits"),
    ],
)
def test_bad_operator_details_are_refused_and_nothing_is_added(
    book: OperatorBook, operator_id: str, name: str, pin: str, problem: str
) -> None:
    with pytest.raises(OperatorError, match=problem):
        book.add(operator_id, name, pin)
    assert book.operators() == []


def test_adding_an_existing_operator_needs_replace_which_resets_the_pin(book: OperatorBook) -> None:
    book.add("li01", "Li Ming", "4821")
    with pytest.raises(OperatorError, match="already exists"):
        book.add("li01", "Li Ming", "9999")
    assert book.verify("li01", "9999") is None
    book.add("li01", "Li Ming", "9999", replace=True)
    assert book.verify("li01", "9999") is not None
    assert book.verify("li01", "4821") is None


def test_a_removed_operator_cannot_sign_in(book: OperatorBook) -> None:
    book.add("li01", "Li Ming", "4821")
    book.remove("li01")
    assert book.verify("li01", "4821") is None
    assert book.operators() == []
    with pytest.raises(OperatorError):
        book.remove("li01")


def test_operator_tables_have_their_own_migration_set_beside_the_gate_log(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    GateStore(path, "north-gate").close()
    OperatorBook(path, FAST).close()
    OperatorBook(path, FAST).close()  # applying twice changes nothing
    rows = sqlite3.connect(path).execute("SELECT migration_set, name FROM _sqlite_migrations").fetchall()
    assert ("pocket-gate-operators", "m001_operators") in rows
    assert {s for s, _ in rows} == {"pocket-gate", "pocket-gate-operators"}


def test_a_shift_records_its_start_and_end(book: OperatorBook) -> None:
    operator = book.add("li01", "Li Ming", "4821")
    start = datetime(2026, 11, 23, 8, tzinfo=UTC)
    shift = book.start_shift(operator, now=start)
    ended = book.end_shift(shift, now=start + timedelta(hours=8))
    row = book.db["shifts"].get(shift.id)
    assert row["operator"] == "li01" and row["ended_at"].startswith("2026-11-23T16:00")
    assert ended.ended_at == start + timedelta(hours=8)


def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text('gate_id = "north-gate"\ndatabase = "gate.db"\n')
    return path


def test_cli_adds_an_operator_with_a_pin_asked_twice_and_lists_them(tmp_path: Path) -> None:
    config = config_file(tmp_path)
    runner = CliRunner()
    result = runner.invoke(
        kiosk_main, ["operators", "add", "li01", "--name", "Li Ming", "--config", str(config)], input="4821\n4821\n"
    )
    assert result.exit_code == 0, result.output
    assert "4821" not in result.stdout
    listed = runner.invoke(kiosk_main, ["operators", "list", "--config", str(config)])
    assert listed.stdout.split() == ["li01", "Li", "Ming"]
    with OperatorBook(tmp_path / "gate.db") as book:
        assert book.verify("li01", "4821") is not None


def test_cli_refuses_a_mismatched_or_bad_pin_with_a_clear_message(tmp_path: Path) -> None:
    config = config_file(tmp_path)
    runner = CliRunner()
    mismatch = runner.invoke(
        kiosk_main, ["operators", "add", "li01", "--name", "Li", "--config", str(config)], input="4821\n4822\n4821\n4821\n"
    )
    assert "do not match" in mismatch.output
    bad = runner.invoke(kiosk_main, ["operators", "add", "wang02", "--name", "Wang", "--pin", "12", "--config", str(config)])
    assert bad.exit_code != 0 and "4 to 12 digits" in bad.output and "Traceback" not in bad.output
    with OperatorBook(tmp_path / "gate.db") as book:
        assert [op.id for op in book.operators()] == ["li01"]


def test_cli_asks_again_for_a_pin_too_short_instead_of_stopping(tmp_path: Path) -> None:
    config = config_file(tmp_path)

    result = CliRunner().invoke(
        kiosk_main, ["operators", "add", "li01", "--name", "Li", "--config", str(config)], input="12\n4821\n4821\n"
    )

    assert result.exit_code == 0, result.output
    assert "Error: a PIN is 4 to" in result.output and result.output.count("Repeat for confirmation") == 1
    with OperatorBook(tmp_path / "gate.db") as book:
        assert book.verify("li01", "4821") is not None
