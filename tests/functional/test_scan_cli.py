"""`pocket-kiosk scan`: issued codes shown to a file camera source, judged and logged, through the real CLI."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import unicodedata
import zlib
from pathlib import Path

import base45
import cbor2
import cv2
import pytest

from sync.core.codes.pgc import PREFIX
from tests.conftest import GateFolder
from tests.helpers import IssueCode, camera_frame, make_resident_id, write_png

BIN = Path(sys.executable).parent


def kiosk(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "pocket-kiosk"), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def json_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def forge(text: str) -> str:
    message = cbor2.loads(zlib.decompress(base45.b45decode(text[len(PREFIX) :])))
    claims = cbor2.loads(message.value[2])
    claims[-70000][2] = "green"
    message.value[2] = cbor2.dumps(claims)
    return PREFIX + base45.b45encode(zlib.compress(cbor2.dumps(message))).decode()


def entries(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT seq, code_type, verdict, reasons, name FROM entries ORDER BY seq").fetchall()


@pytest.fixture
def residents(gate: GateFolder) -> None:
    csv = gate.root / "residents.csv"
    csv.write_text(f"id_number,name,unit\n{make_resident_id(1)},Zhang San,3-101\n{make_resident_id(2)},Li Si,3-102\n")
    result = kiosk("roster", "import", str(csv), "--config", str(gate.config_file))
    assert result.returncode == 0, result.stderr
    assert "2 residents" in result.stdout


def test_folder_of_frames_is_judged_and_logged(gate: GateFolder, issue: IssueCode, residents: None) -> None:
    frames = gate.root / "frames"
    frames.mkdir()
    write_png(frames / "1-green.png", camera_frame(issue(serial=1)))
    write_png(frames / "2-red.png", camera_frame(issue(serial=2, colour="red")))
    write_png(frames / "3-forged.png", camera_frame(forge(issue(serial=3, colour="red"))))
    write_png(frames / "4-expired.png", camera_frame(issue(serial=1, extra=("--issued-at", "2020-01-01T00:00Z"))))
    write_png(frames / "5-wifi.png", camera_frame("WIFI:S:guest;T:WPA;P:secret;;"))
    write_png(frames / "6-empty.png", camera_frame(None))
    (frames / "7-broken.png").write_bytes(b"\x89PNG not really")

    result = kiosk("scan", "--source", str(frames), "--config", str(gate.config_file), "--operator", "op7", "--json")
    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stdout)
    verdicts = [(line["frame"], line["verdict"], line["reasons"], line["logged"]) for line in lines]
    assert verdicts == [
        ("1-green.png", "pass", ["green code", "resident"], True),
        ("2-red.png", "refuse", ["red code"], True),
        ("3-forged.png", "refuse", ["code signature is invalid (forged or altered)"], True),
        ("4-expired.png", "refuse", ["code has expired: valid until 2020-01-02 00:00 UTC"], True),
        ("5-wifi.png", "refuse", ["not a health code this gate reads"], False),
    ]
    assert lines[0]["credential"]["name"] == "Z**** S**" and lines[0]["decoder"] == "zxing-cpp"
    assert "skipped unreadable image" in result.stderr and "6 frames read, 4 entries logged" in result.stderr
    logged = entries(gate.db)
    assert [(seq, kind, verdict) for seq, kind, verdict, _, _ in logged] == [
        (1, "PGC1", "pass"), (2, "PGC1", "refuse"), (3, "invalid", "refuse"), (4, "PGC1", "refuse"),
    ]
    # The expired code is authentic: logged with its holder, as the first (same person) was; the forged one has
    # no person, only its text's hash, so the same forgery can be found again.
    with sqlite3.connect(gate.db) as conn:
        people = conn.execute("SELECT seq, subject, name, details FROM entries ORDER BY seq").fetchall()
    assert people[3][1] == people[0][1] and people[3][2] == "Z**** S**"
    assert people[2][1] is None and people[2][2] == "" and len(json.loads(people[2][3])["code_hash"]) == 64
    assert [line["seq"] for line in lines[:4]] == [1, 2, 3, 4]
    verify = kiosk("verify", "--config", str(gate.config_file))
    assert verify.returncode == 0 and "chain intact: 4 entries" in verify.stdout


def test_video_file_source_with_debounce(gate: GateFolder, issue: IssueCode, residents: None) -> None:
    """A code held in view for many frames, gone, and back within the window, is one scan."""
    video = gate.root / "gate.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (1280, 720))
    green, red = issue(serial=1), issue(serial=2, colour="red")
    for text, count in [(green, 8), (None, 4), (red, 6), (green, 5)]:
        frame = camera_frame(text)
        for _ in range(count):
            writer.write(frame)
    writer.release()

    result = kiosk("scan", "--source", str(video), "--config", str(gate.config_file), "--json")
    assert result.returncode == 0, result.stderr
    assert [(line["verdict"], line["colour"]) for line in json_lines(result.stdout)] == [
        ("pass", "green"), ("refuse", "red"),
    ]
    assert "23 frames read, 2 entries logged" in result.stderr
    assert len(entries(gate.db)) == 2


HOSTILE_NAME = "\x1b[2J[bold red]Evil[/]\x07"
"""A name a compromised issuer could sign: a terminal 'clear screen', Rich markup and a bell."""


def test_a_signed_hostile_name_is_printed_escaped_by_scan_and_check(
    gate: GateFolder, issue: IssueCode, residents: None
) -> None:
    """Through the whole path a real code takes: `pocket-hq issue --png`, that very file shown to `scan`, then
    `check --image`: the control characters come out as visible escapes, never raw."""
    image = gate.root / "evil.png"
    issue(serial=1, name=HOSTILE_NAME, png=image)

    scanned = kiosk("scan", "--source", str(image), "--config", str(gate.config_file))
    # Checked as leaving: after `scan` let them in, entering again would be held as a second entry ([presence]).
    checked = kiosk("check", "--image", str(image), "--config", str(gate.config_file), "--direction", "out")
    as_json = kiosk("check", "--image", str(image), "--config", str(gate.config_file), "--direction", "out", "--json")

    for result in (scanned, checked, as_json):
        assert result.returncode == 0, result.stderr
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert scanned.stdout.startswith("PASS    \\x1b") and "(green): green code; resident" in scanned.stdout
    assert checked.stdout.startswith(f"{image}: PASS    \\x1b")
    assert json_lines(as_json.stdout)[0]["credential"]["name"].startswith("\\x1b")
    assert [(kind, verdict) for _, kind, verdict, _, _ in entries(gate.db)] == [("PGC1", "pass")]
    assert entries(gate.db)[0][4].startswith("\x1b")  # stored as signed; escaped only where it is shown


@pytest.mark.parametrize(
    "payload",
    [
        (PREFIX + "[bold red]GREEN[/]\x1b[2J\x07").encode(),
        PREFIX.encode() + bytes(range(0x80, 0x100)),  # not UTF-8
    ],
    ids=["markup-and-controls", "non-utf8-bytes"],
)
def test_a_hostile_unsigned_payload_is_refused_logged_as_invalid_and_nothing_else_changes(
    gate: GateFolder, residents: None, payload: bytes
) -> None:
    frames = gate.root / "frames"
    frames.mkdir()
    write_png(frames / "evil.png", camera_frame(payload))
    roster_before = sqlite3.connect(gate.db).execute("SELECT * FROM roster ORDER BY subject").fetchall()

    result = kiosk("scan", "--source", str(frames), "--config", str(gate.config_file), "--json")

    assert result.returncode == 0, result.stderr
    [line] = json_lines(result.stdout)
    assert (line["verdict"], line["error"], line["logged"]) == ("refuse", "malformed", True)
    assert not [c for c in line["text"] if unicodedata.category(c) == "Cc"]  # C0 and C1 controls escaped
    assert [(kind, verdict) for _, kind, verdict, _, _ in entries(gate.db)] == [("invalid", "refuse")]
    assert sqlite3.connect(gate.db).execute("SELECT * FROM roster ORDER BY subject").fetchall() == roster_before
    assert kiosk("verify", "--config", str(gate.config_file)).returncode == 0


def test_missing_source_and_bad_config_are_clear(gate: GateFolder, tmp_path: Path) -> None:
    missing = kiosk("scan", "--source", str(tmp_path / "nowhere"), "--config", str(gate.config_file))
    assert missing.returncode == 1 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("gate_id = [")
    broken = kiosk("scan", "--source", "0", "--config", str(bad))
    assert broken.returncode == 1 and "not valid TOML" in broken.stderr and "Traceback" not in broken.stderr
