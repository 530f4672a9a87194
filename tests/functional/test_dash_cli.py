"""`pocket-hq users` and `stats-rebuild`, run as an HQ operator would (in-process through click), and the first
sign-in with an account made that way."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import delete, select
from tests.dash_testkit import Event, Staff, record_and_ingest
from tests.sync_testkit import RunningHq, hq, hq_db_url, signing_key_file  # noqa: F401

from sync.hq.cli import main as hq_main
from sync.hq.tables import entry_stats

PASSWORD = "a long enough passphrase"


def run(*args: str, code: int = 0, stdin: str | None = None) -> Result:
    result = CliRunner().invoke(hq_main, list(args), input=stdin)
    assert result.exit_code == code, result.output + str(result.exception or "")
    return result


def test_an_operator_makes_accounts_that_sign_in_with_their_role(hq: RunningHq) -> None:
    db = ["--db", hq.settings.db]

    made = run("users", "add", "ada", "--role", "admin", *db, stdin=f"{PASSWORD}\n{PASSWORD}\n")
    run("users", "add", "vera", "--password-stdin", *db, stdin=PASSWORD + "\n")

    assert "user ada (admin) created" in made.output and PASSWORD not in made.output
    listed = [json.loads(line) for line in run("users", "list", "--json", *db).output.splitlines()]
    assert [(u["username"], u["role"], u["disabled_at"]) for u in listed] == [("ada", "admin", None), ("vera", "viewer", None)]
    assert Staff(hq.url, "vera", PASSWORD).get("/admin/gates").status_code == 403
    run("users", "role", "vera", "admin", *db)
    assert Staff(hq.url, "vera", PASSWORD).get("/admin/gates").status_code == 200


def test_a_new_password_or_disabling_ends_the_accounts_sessions(hq: RunningHq) -> None:
    db = ["--db", hq.settings.db]
    run("users", "add", "vera", "--password-stdin", *db, stdin=PASSWORD + "\n")
    browser = Staff(hq.url, "vera", PASSWORD)

    run("users", "password", "vera", "--password-stdin", *db, stdin="another long passphrase\n")
    assert browser.get("/").status_code == 303
    again = Staff(hq.url, "vera", "another long passphrase")
    run("users", "disable", "vera", *db)
    assert again.get("/").status_code == 303
    assert "disabled" in run("users", "list", *db).output
    run("users", "enable", "vera", *db)
    assert Staff(hq.url, "vera", "another long passphrase").get("/").status_code == 200


@pytest.mark.parametrize(
    ("args", "stdin", "words"),
    [
        (["users", "add", "bo", "--password-stdin"], "short\n", "at least 12 characters"),
        (["users", "add", "two words", "--password-stdin"], PASSWORD + "\n", "is not a user name"),
        (["users", "password", "nobody", "--password-stdin"], PASSWORD + "\n", "no user nobody"),
        (["users", "disable", "nobody"], None, "no user nobody"),
        (["users", "add", "bo", "--role", "root", "--password-stdin"], PASSWORD + "\n", "'root' is not one of"),
    ],
)
def test_account_commands_explain_what_went_wrong(hq: RunningHq, args: list[str], stdin: str | None, words: str) -> None:
    failed = run(*args, "--db", hq.settings.db, code=2 if "root" in args else 1, stdin=stdin)

    assert words in failed.output and "Traceback" not in failed.output


def test_stats_rebuild_recounts_from_the_entries(hq: RunningHq, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    record_and_ingest(hq.db, tmp_path, "g1", [Event(now - timedelta(minutes=i), f"{i:032x}") for i in range(1, 8)])
    with hq.db.begin() as conn:
        conn.execute(delete(entry_stats))

    assert "statistics rebuilt" in run("stats-rebuild", "--db", hq.settings.db).output
    with hq.db.read() as conn:
        assert sum(r.entries_in for r in conn.execute(select(entry_stats))) == 7


def test_the_command_line_speaks_the_operators_language_and_shows_the_districts_time(
    hq: RunningHq, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = ["--db", hq.settings.db]
    monkeypatch.setenv("POCKET_HQ_TIMEZONE", "Asia/Shanghai")
    before = datetime.now(UTC)

    made = run("--lang", "zh_CN", "users", "add", "lin", "--password-stdin", *db, stdin=PASSWORD + "\n")
    run("users", "disable", "lin", *db)
    listed = run("--lang", "zh_CN", "users", "list", *db).output
    chosen = run("--lang", "zh_CN", "users", "language", "lin", "en", *db).output
    refused = run("--lang", "zh_CN", "roster", "load", "north-gate", __file__, *db, code=2)

    assert made.output.strip() == "用户 lin（查看员）已创建"
    [line] = [line for line in listed.splitlines() if line.startswith("lin:")]
    assert line.startswith("lin: 查看员, ") and line.endswith(", 辖区默认语言") and " 已停用" in line
    stamp = datetime.fromisoformat(line.split(", ")[1].split()[0])
    assert stamp.utcoffset() == timedelta(hours=8) and before - timedelta(seconds=1) <= stamp <= datetime.now(UTC)
    assert chosen.strip() == "lin 的管理页面语言：English"
    assert "请给出 --district-key 文件" in refused.output
    assert "user vera (viewer) created" in run("users", "add", "vera", "--password-stdin", *db, stdin=PASSWORD + "\n").output
