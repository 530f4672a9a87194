"""The command lines an HQ operator and a gate installer use: `pocket-hq` gates, lists, passes, policy, trust
and purge, and `pocket-kiosk enroll` / `sync`, run as a person would (in-process through click)."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.sync_testkit import MakeGate, RunningHq, hq, hq_db_url, make_gate, signing_key_file  # noqa: F401

from kiosk.cli import main as kiosk_main
from sync.core.codes.keys import create_issuer_keys
from kiosk.config import load_config
from sync.core.clock import utc_text
from kiosk.trust_store import list_documents
from sync.hq.cli import lists as hq_list_commands
from sync.hq import uploads
from sync.hq.cli import main as hq_main
from sync.hq.tables import entries
from sync.hq.gates import list_gates
from tests.helpers import make_resident_id


def run(command: object, *args: str, code: int = 0, stdin: str | None = None) -> Result:
    result = CliRunner().invoke(command, list(args), input=stdin)  # type: ignore[arg-type]
    assert result.exit_code == code, result.output + str(result.exception or "")
    return result


def _token(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("pgt_"))


def test_an_installer_enrols_a_gate_and_it_syncs(hq: RunningHq, signing_key_file: Path, tmp_path: Path) -> None:
    added = run(hq_main, "gates", "add", "north-gate", "--db", hq.settings.db, "--signing-key", str(signing_key_file))
    token = _token(added.stdout)
    fingerprint = added.stdout.split("--fingerprint ")[1].strip()
    config = tmp_path / "gate" / "kiosk.toml"
    config.parent.mkdir()
    config.write_text('# the north gate\ndatabase = "gate.db"\n')

    enrolled = run(kiosk_main, "enroll", "--hq", hq.url, "--token", "-", "--fingerprint", fingerprint,
                   "--config", str(config), stdin=token + "\n")

    assert "enrolled gate north-gate" in enrolled.stdout and "online: 0 waiting" in enrolled.stdout
    assert config.read_text().startswith("# the north gate\n")  # the installer's file is edited, not replaced
    settings = load_config(config)
    assert settings.hq_url == hq.url and settings.gate_id == "north-gate"
    assert settings.hq_token_file is not None and settings.hq_token_file.read_text().strip() == token
    assert stat.S_IMODE(settings.hq_token_file.stat().st_mode) == 0o600
    assert token not in config.read_text()
    hq.assert_holds_only_the_hash_of("north-gate", token)


def test_enrolment_refuses_a_wrong_token_or_fingerprint_and_changes_nothing(hq: RunningHq, tmp_path: Path) -> None:
    token = hq.add_gate("north-gate")
    config = tmp_path / "gate" / "kiosk.toml"
    config.parent.mkdir()
    config.write_text('database = "gate.db"\n')

    wrong_token = run(kiosk_main, "enroll", "--hq", hq.url, "--token", "pgt_nope", "--config", str(config), code=1)
    wrong_key = run(kiosk_main, "enroll", "--hq", hq.url, "--token", token, "--fingerprint", "ab" * 32,
                    "--config", str(config), code=1)

    assert "HQ refused (401): unknown gate token" in wrong_token.output
    assert "not the abab" in wrong_key.output and "refusing to pin it" in wrong_key.output
    assert config.read_text() == 'database = "gate.db"\n'
    assert sorted(p.name for p in config.parent.iterdir()) == ["kiosk.toml"]


def test_a_chinese_keeper_reads_why_enrolment_and_sync_failed_in_chinese(
    hq: RunningHq, make_gate: MakeGate, tmp_path: Path
) -> None:
    config = tmp_path / "gate" / "kiosk.toml"
    config.parent.mkdir()
    config.write_text('database = "gate.db"\nlanguage = "zh_CN"\n')
    offline = make_gate(hq, "north-gate", url="http://127.0.0.1:9")
    offline.log(1)

    wrong_token = run(kiosk_main, "enroll", "--hq", hq.url, "--token", "pgt_nope", "--config", str(config), code=1)
    plain = run(kiosk_main, "enroll", "--hq", "ftp://hq", "--token", "pgt_x", "--config", str(config), code=1)
    unreachable = run(kiosk_main, "--lang", "zh_CN", "sync", "--once", "--config", str(offline.config_file), code=1)
    english = run(kiosk_main, "sync", "--once", "--config", str(offline.config_file), code=1)

    assert "总部未接受登记：总部拒绝（401）：unknown gate token" in wrong_token.output
    assert "'ftp://hq' 不是 http:// 或 https:// 地址" in plain.output
    assert "无法连接 http://127.0.0.1:9 的总部" in unreachable.stdout
    assert "HQ at http://127.0.0.1:9 is unreachable" in english.stdout
    assert config.read_text() == 'database = "gate.db"\nlanguage = "zh_CN"\n'


def test_sync_once_shows_progress_on_a_large_backlog(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, "north-gate", sync_batch_entries=200)
    gate.log(2000)

    done = run(kiosk_main, "sync", "--once", "--config", str(gate.config_file), "--json")

    progress = [line for line in done.stderr.splitlines() if line.startswith("uploaded ")]
    assert progress[0] == "uploaded 200/2000 entries" and progress[-1] == "uploaded 2000/2000 entries"
    assert len(progress) == 10
    report = json.loads(done.stdout)
    assert (report["connection"], report["uploaded"], report["entries_waiting"]) == ("online", 2000, 0)
    status = run(kiosk_main, "sync", "--status", "--config", str(gate.config_file))
    assert status.stdout.startswith("online: 0 waiting (HQ has #2000)")


def test_sync_once_exits_1_when_hq_cannot_be_reached(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, "north-gate", url="http://127.0.0.1:9")
    gate.log(1)

    failed = run(kiosk_main, "sync", "--once", "--config", str(gate.config_file), code=1)

    assert failed.stdout.startswith("offline: 1 waiting") and "unreachable" in failed.stdout


def test_sync_tells_an_unenrolled_gate_how_to_enrol(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text('database = "gate.db"\n')

    refused = run(kiosk_main, "sync", "--once", "--config", str(config), code=1)

    assert "pocket-kiosk enroll --hq URL --token TOKEN" in refused.output


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    folder = tmp_path / "hq-keys"
    create_issuer_keys(folder)
    return folder


def test_hq_commands_publish_lists_to_a_gate(hq: RunningHq, make_gate: MakeGate, keys: Path, tmp_path: Path) -> None:
    db, district = ["--db", hq.settings.db], ["--district-key", str(keys / "district.key")]
    gate = make_gate(hq, "north-gate")
    roster = tmp_path / "roster.csv"
    roster.write_text("id_number,name,unit\n110101199001010031,Li Si,3-201\n")
    red = tmp_path / "red.csv"
    red.write_text("id_number,colour,note\n110101199001010023,red,close contact\n110101199001010015,Yellow,\n")
    policy = tmp_path / "policy.toml"
    policy.write_text('[temperature]\nrefuse_at_or_above = 37.5\n')

    assert "1 resident;" in run(hq_main, "roster", "load", "north-gate", str(roster), *db, *district).stdout
    assert "1 red, 1 yellow" in run(hq_main, "colour-list", "load", str(red), *db, *district).stdout
    issued = run(hq_main, "passes", "issue", "--id", "110101199001010015", "--kind", "vehicle", "--gate", "north-gate",
                 "--hours", "2", *db, *district).stdout
    pass_id = issued.split(":")[0]
    assert "vehicle pass at gate north-gate" in issued
    assert "policy published" in run(hq_main, "policy", "set", str(policy), *db).stdout
    assert "trusted issuer-public-key" in run(hq_main, "trust", "add", str(keys), *db).stdout

    status = gate.sync()

    with gate.store() as store:
        assert [r["unit"] for r in store.rows("roster")] == ["3-201"]
        assert sorted(r["colour"] for r in store.rows("colour_list")) == ["red", "yellow"]
        assert [r["id"] for r in store.rows("passes")] == [pass_id]
        assert [d.origin for d in list_documents(store)] == ["hq"]
        assert '"refuse_at_or_above":37.5' in (store.get_meta("hq_policy") or "")
    assert "revoked" in run(hq_main, "passes", "revoke", pass_id, *db).stdout
    later = gate.sync()
    assert later.bundle_version > status.bundle_version
    with gate.store() as store:
        assert store.rows("passes") == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["gates", "add", "bad gate!"], "is not a gate id"),
        (["gates", "revoke", "nowhere"], "no enrolled, unrevoked gate nowhere"),
        (["passes", "revoke", "pass-0"], "no pass pass-0"),
        (["trust", "remove", "0011223344556677"], "no trusted issuer-public-key"),
        (["serve", "--signing-key", "/nonexistent/key.pem"], "pocket-hq signing-key init"),
        (["gates", "list", "--db", "mysql://x@y/z"], "SQLite or PostgreSQL"),
    ],
)
def test_hq_commands_explain_what_went_wrong(hq: RunningHq, args: list[str], words: str) -> None:
    if "--db" not in args:
        args = [*args, "--db", hq.settings.db]

    failed = run(hq_main, *args, code=1)

    assert words in failed.output and "Traceback" not in failed.output


def test_bad_lists_are_refused_whole(hq: RunningHq, make_gate: MakeGate, keys: Path, tmp_path: Path) -> None:
    make_gate(hq, "north-gate")
    db, district = ["--db", hq.settings.db], ["--district-key", str(keys / "district.key")]
    red = tmp_path / "red.csv"
    red.write_text("id_number,colour\n110101199001010023,red\n110101199001010024,red\n110101199001010015,purple\n")
    policy = tmp_path / "policy.toml"
    policy.write_text("[colours]\ngreen = 'pass'\npurple = 'refuse'\n")
    wrong_columns = tmp_path / "roster.csv"
    wrong_columns.write_text("name,unit\nLi Si,3-201\n")

    lines = run(hq_main, "colour-list", "load", str(red), *db, *district, code=1).output
    assert "line 3: the check digit does not match" in lines and "line 4: colour must be red or yellow" in lines
    assert "purple" in run(hq_main, "policy", "set", str(policy), *db, code=1).output
    assert "lacks the column(s) id_number" in run(hq_main, "roster", "load", "north-gate", str(wrong_columns), *db, *district, code=1).output
    assert "no policy published" in run(hq_main, "policy", "show", *db).stdout


def test_a_list_loaded_again_says_what_changed_and_shows_progress_for_a_long_file(
    hq: RunningHq, keys: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command line loads a list through the dashboard's staging path: streamed in batches with progress on
    stderr, compared with the list in force, then applied; the load shows in the dashboard's uploads."""
    db, district = ["--db", hq.settings.db], ["--district-key", str(keys / "district.key")]
    monkeypatch.setattr(hq_list_commands, "LOAD_PROGRESS_ROWS", 1)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text("id_number,colour,note\n" + "".join(f"{make_resident_id(i)},red,case {i}\n" for i in range(12_000)))
    second.write_text(
        "id_number,colour,note\n" + "".join(f"{make_resident_id(i)},red,case {i}\n" for i in range(1, 11_999))
        + f"{make_resident_id(11_999)},yellow,now yellow\n{make_resident_id(20_000)},red,new\n"
    )

    loaded = run(hq_main, "colour-list", "load", str(first), *db, *district)
    again = run(hq_main, "colour-list", "load", str(second), *db, *district)

    assert loaded.stderr.splitlines() == ["checked 10,000 rows", "checked 12,000 rows"]
    assert loaded.stdout.startswith("red/yellow list: 12000 red, 0 yellow; 12000 added, 0 changed, 0 removed")
    assert again.stdout.startswith("red/yellow list: 11999 red, 1 yellow; 1 added, 1 changed, 1 removed")
    history = uploads.recent(hq.db).items
    assert [(u.filename, u.state) for u in history] == [("second.csv", uploads.State.APPLIED), ("first.csv", uploads.State.APPLIED)]
    assert history[0].uploaded_by.endswith("(command line)")


def test_gates_list_revoke_and_new_token(hq: RunningHq, make_gate: MakeGate, signing_key_file: Path) -> None:
    gate = make_gate(hq, "north-gate")
    gate.log(2)
    gate.sync()
    db = ["--db", hq.settings.db]

    listed = run(hq_main, "gates", "list", *db).stdout
    run(hq_main, "gates", "revoke", "north-gate", *db)
    revoked = gate.sync()
    fresh = _token(run(hq_main, "gates", "token", "north-gate", *db, "--signing-key", str(signing_key_file)).stdout)
    assert gate.config.hq_token_file is not None
    gate.config.hq_token_file.write_text(fresh)
    gate.log(1)
    back = gate.sync()

    assert listed.startswith("north-gate: 2 entries, chain #2, 0 alerts, last seen 20")
    assert "revoked" in (revoked.last_error or "")
    assert back.online and back.upload_cursor == 3
    hq.assert_holds_only_the_hash_of("north-gate", fresh)


def test_purge_removes_only_entries_past_retention(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, "north-gate")
    gate.log(3)
    gate.sync()
    old = utc_text(datetime.now(UTC) - timedelta(days=40))
    with hq.db.begin() as conn:
        conn.execute(entries.update().where(entries.c.seq <= 2).values(ts=old))

    purged = run(hq_main, "purge", "--db", hq.settings.db, "--days", "28").stdout

    assert purged.startswith("purged 2 entries older than")
    assert hq.entry_count() == 1
    gate.log(1)
    assert gate.sync().online
    assert hq.alert_kinds("north-gate") == []  # purging at HQ never looks like a broken chain
    assert list_gates(hq.db)[0].chain_seq == 4


def test_gates_add_prints_the_whole_enrol_line_and_alerts_says_when_there_are_none(
    hq: RunningHq, signing_key_file: Path
) -> None:
    added = run(hq_main, "gates", "add", "north-gate", "--hq-url", hq.url, "--db", hq.settings.db,
                "--signing-key", str(signing_key_file))
    none = run(hq_main, "alerts", "--db", hq.settings.db)
    none_json = run(hq_main, "alerts", "--json", "--db", hq.settings.db)

    enrol = added.stdout.strip().splitlines()[-1]
    assert enrol.startswith(f"pocket-kiosk enroll --hq {hq.url} --token - --fingerprint ")
    assert _token(added.stdout) not in enrol, "the token is pasted, never put on a command line"
    assert " URL " not in added.stdout
    assert none.stdout.startswith("no alerts") and none_json.stdout == ""
