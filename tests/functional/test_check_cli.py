"""`pocket-kiosk check`: why a code passes or fails, for texts and images, changing nothing."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import GateFolder
from tests.helpers import IssueCode, camera_frame, write_png

BIN = Path(sys.executable).parent


def check(gate: GateFolder, *args: str, status: int = 0) -> list[dict]:
    result = subprocess.run(
        [str(BIN / "pocket-kiosk"), "check", "--config", str(gate.config_file), "--json", *args],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == status, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_images_report_texts_decoder_credential_and_verdict(gate: GateFolder, issue: IssueCode, tmp_path: Path) -> None:
    green = issue(serial=5)
    image = write_png(tmp_path / "green.png", camera_frame(green))
    blank = write_png(tmp_path / "blank.png", camera_frame(None))
    (tmp_path / "junk.png").write_bytes(b"junk")
    first, second, third, fourth = check(
        gate, "--image", str(image), "--image", str(blank), "--image", str(tmp_path / "junk.png"),
        "--image", str(image), status=1,
    )
    assert first["image"] == str(image) and first["texts"] == [green] and first["decoder"] == "zxing-cpp"
    assert first["credential"]["colour"] == "green" and first["verdict"] == "refuse"
    assert first["reasons"] == ["not a resident and no valid pass from HQ"]
    assert second == {"image": str(blank), "texts": [], "decoder": None, "error": "no QR code found"}
    assert third["error"] == "image cannot be read"
    assert fourth["texts"] == [green], "an unreadable image does not stop the ones after it"


def test_readable_images_exit_zero_even_when_refused(gate: GateFolder, issue: IssueCode, tmp_path: Path) -> None:
    image = write_png(tmp_path / "green.png", camera_frame(issue(serial=9)))
    blank = write_png(tmp_path / "blank.png", camera_frame(None))
    first, second = check(gate, "--image", str(image), "--image", str(blank))
    assert first["verdict"] == "refuse" and second["error"] == "no QR code found"


def test_at_judges_as_of_another_time_and_nothing_is_logged(gate: GateFolder, issue: IssueCode) -> None:
    old = issue(serial=6, extra=("--issued-at", "2025-03-01T08:00Z", "--hours", "24"))
    assert not gate.db.exists()
    (now,) = check(gate, old)
    (then,) = check(gate, old, "--at", "2025-03-01T12:00")
    assert now["error"] == "expired" and now["verdict"] == "refuse"
    assert then["error"] is None and then["credential"]["issued_at"] == "2025-03-01T08:00:00+00:00"
    assert not gate.db.exists(), "check must not create or write the gate database"


def test_check_leaves_an_existing_database_untouched(gate: GateFolder, issue: IssueCode) -> None:
    csv = gate.root / "r.csv"
    csv.write_text("id_number,name\n")
    subprocess.run([str(BIN / "pocket-kiosk"), "roster", "import", str(csv), "--config", str(gate.config_file)], check=True)
    before = hashlib.sha256(gate.db.read_bytes()).hexdigest()
    check(gate, issue(serial=8), "garbage", "PGC1:ABC")
    assert hashlib.sha256(gate.db.read_bytes()).hexdigest() == before


def test_hostile_texts_come_back_escaped(gate: GateFolder) -> None:
    (result,) = check(gate, "PGC1:\x1b]0;pwned\x07[red]x")
    assert result["text"] == "PGC1:\\x1b]0;pwned\\x07[red]x"
    assert result["error"] == "malformed"


def test_a_code_is_valid_through_the_second_of_its_expiry(gate: GateFolder, issue: IssueCode) -> None:
    code = issue(serial=7, extra=("--issued-at", "2025-03-01T08:00Z", "--hours", "24"))
    (at_expiry,) = check(gate, code, "--at", "2025-03-02T08:00:00Z")
    (late_in_that_second,) = check(gate, code, "--at", "2025-03-02T08:00:00.999Z")
    (a_second_later,) = check(gate, code, "--at", "2025-03-02T08:00:01Z")
    assert at_expiry["error"] is None and late_in_that_second["error"] is None
    assert a_second_later["error"] == "expired"
