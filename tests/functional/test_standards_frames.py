"""EU DCCs and SMART Health Cards rendered as camera frames and run through the real scanner and CLI:
`pocket-kiosk check --image --trust FILE --json`, `pocket-kiosk trust import`, `pocket-kiosk scan --source
FOLDER --json` and `pocket-kiosk verify`, with a real gate database.

Every shared case of the unit tests (tests/standards_cases.py: each hcert result class and each SMART Health Card
one) is rendered here as frames, read back by the real Scanner and verified, and run through `check --image
--trust FILE --json --at NOW`, judged at the moment the cases were made for.

The scene's certificates are made relative to the real clock read once (`Scene.now`), since `scan` judges as of
now: `check` is told that moment with `--at`, and what `scan` says is held to the time it logged.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cbor2
import cv2
import pytest
from click.testing import CliRunner

from kiosk.cli import main as kiosk_main
from sync.core.codes import TrustList
from kiosk.scanner import Scanner
from tests.standards_cases import HC1_CASES, SHC_CASES, Case, assert_outcome, assert_record
from tests.standards_certs import (
    EKU_TEST,
    EKU_VACCINATION,
    NOW,
    DocumentSignerKeys,
    ShcIssuer,
    dcc_payload,
    dcc_test_entry,
    hc1,
    issue_dcc,
    issue_shc,
    lab_result,
    make_csca,
    make_dsc,
    make_shc_issuer,
    patient,
    render_frame,
    shc_chunks,
    shc_payload,
    sign_dcc,
    sign_shc,
)
from tests.standards_fixtures import (  # noqa: F401 - fixtures
    Cast,
    cast,
    csca,
    dsc,
    dsc_expired,
    dsc_rsa,
    dsc_test_only,
    dsc_untrusted,
    dsc_vaccination_only,
    issuer_jwks,
    shc_issuer,
    shc_other_issuer,
    trust,
)

KIOSK = Path(sys.executable).with_name("pocket-kiosk")


@dataclass
class Scene:
    """A gate folder with trust files, a config and the certificates of one afternoon."""

    root: Path
    config: Path
    trust_dir: Path
    dsc_pem: Path
    dsc_der: Path
    jwks: Path
    dsc: DocumentSignerKeys
    dsc_vaccination_only: DocumentSignerKeys
    issuer: ShcIssuer
    now: datetime


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Scene:
    root = tmp_path_factory.mktemp("standards-gate")
    now = datetime.now(UTC).replace(microsecond=0)
    csca = make_csca()
    validity = {"not_before": now - timedelta(days=90), "not_after": now + timedelta(days=90)}
    dsc = make_dsc(csca, usages=[EKU_TEST], **validity)
    dsc_vaccination_only = make_dsc(csca, usages=[EKU_VACCINATION], common_name="DSC vac", **validity)
    issuer = make_shc_issuer()
    trust_dir = root / "trust"
    trust_dir.mkdir()
    (trust_dir / "dsc.pem").write_bytes(dsc.pem() + dsc_vaccination_only.pem())
    crl = issuer.crl(["revokedCard"])
    (trust_dir / "issuer.jwks.json").write_text(json.dumps(issuer.jwks(crls=[crl])))
    dsc_der = root / "dsc.der"
    dsc_der.write_bytes(dsc.der())
    policy = root / "policy.toml"
    policy.write_text('[access]\nnon_resident_without_pass = "pass"  # visitors with a certificate may enter\n')
    config = root / "kiosk.toml"
    config.write_text('gate_id = "south-gate"\ndatabase = "south-gate.db"\npolicy_file = "policy.toml"\n')
    return Scene(
        root, config, trust_dir, trust_dir / "dsc.pem", dsc_der, trust_dir / "issuer.jwks.json", dsc,
        dsc_vaccination_only, issuer, now,
    )  # fmt: skip


def good_dcc(scene: Scene, hours_ago: float = 6, **kwargs: Any) -> str:
    payload = dcc_payload("t", [dcc_test_entry(scene.now - timedelta(hours=hours_ago))])
    times = {"iat": scene.now - timedelta(hours=hours_ago - 1), "exp": scene.now + timedelta(days=2)} | kwargs
    return issue_dcc(scene.dsc, payload, **times)


def good_shc(scene: Scene, rid: str | None = None) -> str:
    card = shc_payload(
        [patient(), lab_result(scene.now - timedelta(hours=10))], nbf=scene.now - timedelta(hours=9), rid=rid
    )
    return sign_shc(scene.issuer, card)


def kiosk(*args: str) -> tuple[list[dict[str, Any]], str]:
    result = CliRunner().invoke(kiosk_main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")], result.stderr


def check_image(scene: Scene, frame: Path, trust: Path) -> dict[str, Any]:
    """`check --image FRAME --trust FILE --json`, judged at the scene's moment."""
    (record,), _ = kiosk(
        "check", "--image", str(frame), "--trust", str(trust), "--config", str(scene.config), "--json",
        "--at", scene.now.isoformat(),
    )  # fmt: skip
    return record


def hours_ago(sampled_at: datetime, judged_at: str) -> str:
    """The policy's words for a test sampled at `sampled_at`, judged at the time an entry was logged."""
    return f"{(datetime.fromisoformat(judged_at) - sampled_at).total_seconds() / 3600:.0f} h ago"


# -- the shared cases as camera frames -----------------------------------------------------------------------

FAMILIES = {"HC1": HC1_CASES, "SHC": SHC_CASES}
FRAME_CASES = [pytest.param(family, case, id=f"{family} {case.name}") for family, cases in FAMILIES.items()
               for case in cases]  # fmt: skip


@dataclass(frozen=True)
class Shown:
    """A shared case's texts and the frames they were rendered as, in the order a visitor shows them."""

    texts: list[str]
    frames: list[Path]


@pytest.fixture(scope="module")
def case_frames(cast: Cast, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Shown]:
    """Every shared case rendered as camera frames, numbered in one folder per family."""
    root = tmp_path_factory.mktemp("case-frames")
    shown: dict[tuple[str, str], Shown] = {}
    for family, cases in FAMILIES.items():
        number = 0
        for case in cases:
            texts = case.make(cast)
            frames = [render_frame(text, root / family / f"{number + i:03d}.png") for i, text in enumerate(texts, 1)]
            number += len(texts)
            shown[(family, case.name)] = Shown(texts, frames)
    return shown


@pytest.fixture(scope="module")
def checked(
    cast: Cast, scene: Scene, case_frames: dict[tuple[str, str], Shown], tmp_path_factory: pytest.TempPathFactory
) -> dict[Path, dict[str, Any]]:
    """`pocket-kiosk check --image ... --trust FILE --json --at NOW` over all of a family's frames, in one run
    of the installed command per family (its own process: a chunked card's parts meet no other test's), against
    the unit tests' trust documents written as files: the DSC list for HC1, the issuer's JWKS for SHC."""
    folder = tmp_path_factory.mktemp("case-trust")
    files = {"HC1": folder / "dsc-list.pem", "SHC": folder / "issuer.jwks.json"}
    files["HC1"].write_bytes(cast.trusted_dsc_list())
    files["SHC"].write_bytes(issuer_jwks(cast.shc_issuer))
    records: dict[Path, dict[str, Any]] = {}
    for family, cases in FAMILIES.items():
        frames = [frame for case in cases for frame in case_frames[(family, case.name)].frames]
        images = [arg for frame in frames for arg in ("--image", str(frame))]
        result = subprocess.run(
            [str(KIOSK), "check", "--config", str(scene.config), "--trust", str(files[family]), "--at",
             NOW.isoformat(), "--json", *images],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        assert [line["image"] for line in lines] == [str(frame) for frame in frames]
        records |= {Path(line["image"]): line for line in lines}
    return records


@pytest.mark.parametrize(("family", "case"), FRAME_CASES)
def test_shared_case_through_the_scanner(
    cast: Cast, trust: TrustList, case_frames: dict[tuple[str, str], Shown], family: str, case: Case
) -> None:
    """The frames read back to exactly the texts shown, which verify as the unit test's case says."""
    shown = case_frames[(family, case.name)]
    scanner = Scanner()
    read = [scanner.scan(cv2.imread(str(frame), cv2.IMREAD_COLOR)).texts for frame in shown.frames]
    assert read == [[text] for text in shown.texts]
    assert_outcome(case, cast, [texts[0] for texts in read], trust)


@pytest.mark.parametrize(("family", "case"), FRAME_CASES)
def test_shared_case_through_check(
    cast: Cast,
    checked: dict[Path, dict[str, Any]],
    case_frames: dict[tuple[str, str], Shown],
    family: str,
    case: Case,
) -> None:
    """`check --json` on the frames: a chunked card's first parts ask for the next, and the last frame gives the
    case's error (named, with the words of the step that failed) or its entries, with each check on its own."""
    *parts, last = [checked[frame] for frame in case_frames[(family, case.name)].frames]
    for number, part in enumerate(parts, start=1):
        assert (part["code_type"], part["verdict"]) == ("partial", "hold")
        assert f"{number} of {len(parts) + 1} parts read" in part["reasons"][0]
    assert last["texts"], last.get("error")
    assert_record(case, cast, last)


# -- check --image --trust FILE ------------------------------------------------------------------------------


def test_check_a_good_dcc_frame_against_its_dsc_file(scene: Scene, tmp_path: Path) -> None:
    text = good_dcc(scene)
    record = check_image(scene, render_frame(text, tmp_path / "dcc.png"), scene.dsc_pem)
    assert record["texts"] == [text] and record["decoder"] == "zxing-cpp"  # whole, however long
    assert record["code_type"] == "HC1" and record["verdict"] == "pass"
    assert (record["signature_valid"], record["expired"], record["key_usage_ok"], record["schema_valid"]) == (
        True, False, True, True,
    )  # fmt: skip
    assert record["reasons"][0] == "negative NAA test sampled 6 h ago"
    assert record["credential"]["name"] == "E**** M*********"
    assert record["credential"]["evidence"][0]["test_type"] == "naa"
    assert record["colour"] is None


def test_check_with_a_der_certificate(scene: Scene, tmp_path: Path) -> None:
    record = check_image(scene, render_frame(good_dcc(scene), tmp_path / "dcc.png"), scene.dsc_der)
    assert record["signature_valid"] is True and record["verdict"] == "pass"


def test_check_an_shc_frame_against_a_jwks(scene: Scene, tmp_path: Path) -> None:
    text = "shc:/" + "".join(f"{ord(c) - 45:02d}" for c in good_shc(scene))
    record = check_image(scene, render_frame(text, tmp_path / "shc.png"), scene.jwks)
    assert record["code_type"] == "SHC" and record["verdict"] == "pass"
    assert (record["signature_valid"], record["expired"], record["key_usage_ok"], record["schema_valid"]) == (
        True, False, None, True,
    )  # fmt: skip
    assert record["credential"]["name"] == "J*** D**"
    assert record["credential"]["issuer"] == scene.issuer.iss


def test_check_chunked_shc_texts_in_one_run(scene: Scene) -> None:
    chunks = shc_chunks(good_shc(scene), 2)
    records, _ = kiosk("check", *chunks, "--trust", str(scene.jwks), "--config", str(scene.config), "--json")
    assert [r["verdict"] for r in records] == ["hold", "pass"]
    assert records[0]["code_type"] == "partial" and "1 of 2 parts read" in records[0]["reasons"][0]
    assert records[1]["code_type"] == "SHC"


def test_check_refuses_a_trust_file_that_is_not_one(scene: Scene, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello")
    result = CliRunner().invoke(kiosk_main, ["check", "HC1:XYZ", "--trust", str(bogus), "--config", str(scene.config)])
    assert result.exit_code != 0
    assert "not a trust file" in result.output and "Traceback" not in result.output


# -- scan a folder of frames ---------------------------------------------------------------------------------


def test_scan_a_folder_logs_certificates_but_not_partial_codes(scene: Scene, tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    forged = cbor2.loads(sign_dcc(scene.dsc, dcc_payload()))
    forged.value[3] = bytes(64)
    chunks = shc_chunks(good_shc(scene), 3)
    sampled_10_h_before = scene.now - timedelta(hours=10)  # good_shc's lab result
    revoked = issue_shc(scene.issuer, shc_payload(rid="revokedCard"))
    texts = [good_dcc(scene), hc1(cbor2.dumps(forged)), *chunks, revoked, "WIFI:S:guest;T:WPA;P:secret;;"]
    for number, text in enumerate(texts, start=1):
        render_frame(text, frames / f"{number:02d}.png")
    db = tmp_path / "gate.db"
    records, summary = kiosk(
        "scan",
        "--source",
        str(frames),
        "--config",
        str(scene.config),
        "--db",
        str(db),
        "--trust",
        str(scene.trust_dir),
        "--json",
    )
    assert [(r["frame"], r["code_type"], r["verdict"], r["logged"]) for r in records] == [
        ("01.png", "HC1", "pass", True),
        ("02.png", "invalid", "refuse", True),
        ("03.png", "partial", "hold", False),
        ("04.png", "partial", "hold", False),
        ("05.png", "SHC", "pass", True),
        ("06.png", "SHC", "refuse", True),  # expired but genuine: logged under its format and person
        ("07.png", "unknown", "refuse", False),
    ]
    assert records[1]["error"] == "bad_signature" and records[5]["error"] == "revoked"
    assert records[4]["reasons"][0] == "negative NAA test sampled " + hours_ago(sampled_10_h_before, records[4]["time"])
    assert "7 frames read, 4 entries logged" in summary
    result = CliRunner().invoke(kiosk_main, ["verify", "--config", str(scene.config), "--db", str(db)])
    assert result.exit_code == 0 and "chain intact: 4 entries" in result.stdout


def test_trust_import_then_scan_with_the_gate_database_alone(scene: Scene, tmp_path: Path) -> None:
    db = tmp_path / "gate.db"
    frames = tmp_path / "frames"
    render_frame(good_dcc(scene), frames / "01-dcc.png")
    render_frame("shc:/" + "".join(f"{ord(c) - 45:02d}" for c in good_shc(scene)), frames / "02-shc.png")
    base = ["--config", str(scene.config), "--db", str(db)]
    _, _ = kiosk("trust", "import", str(scene.dsc_der), str(scene.jwks), *base)
    result = CliRunner().invoke(kiosk_main, ["trust", "import", str(scene.dsc_der), *base])
    assert "imported dsc.der: 1 EU DCC document signer" in result.stdout
    listed, freshness = kiosk("trust", "list", "--json", *base)
    assert [d["name"] for d in listed] == ["dsc.der", "issuer.jwks.json"]
    assert "fresh" in freshness
    records, _ = kiosk("scan", "--source", str(frames), *base, "--json")
    assert [(r["code_type"], r["verdict"], r["warnings"]) for r in records] == [
        ("HC1", "pass", []),
        ("SHC", "pass", []),
    ]


def test_a_stale_trust_list_is_a_warning_the_policy_can_make_a_hold(scene: Scene, tmp_path: Path) -> None:
    db = tmp_path / "gate.db"
    kiosk("trust", "import", str(scene.dsc_pem), "--config", str(scene.config), "--db", str(db))
    (document,), _ = kiosk("trust", "list", "--json", "--config", str(scene.config), "--db", str(db))
    later = datetime.fromisoformat(document["confirmed_at"]) + timedelta(days=8)  # the age is counted from here
    payload = dcc_payload("t", [dcc_test_entry(later - timedelta(hours=2))])
    text = issue_dcc(scene.dsc, payload, iat=later - timedelta(hours=1), exp=later + timedelta(days=2))
    (admitted,), _ = kiosk(
        "check", text, "--config", str(scene.config), "--db", str(db), "--at", later.isoformat(), "--json"
    )
    assert admitted["verdict"] == "pass"
    assert admitted["warnings"] == ["trust list is 192 h old (freshness.keys_max_age_hours: 168 h)"]
    strict_policy = tmp_path / "strict.toml"
    strict_policy.write_text('[access]\nnon_resident_without_pass = "pass"\n[freshness]\nstale_keys = "hold"\n')
    strict = tmp_path / "kiosk.toml"
    strict.write_text(f'gate_id = "south-gate"\ndatabase = "{db}"\npolicy_file = "{strict_policy}"\n')
    (held,), _ = kiosk("check", text, "--config", str(strict), "--at", later.isoformat(), "--json")
    assert held["verdict"] == "hold" and held["reasons"] == admitted["warnings"]


def test_trust_import_refuses_a_jwks_without_issuer_and_changes_nothing(scene: Scene, tmp_path: Path) -> None:
    plain = tmp_path / "plain.jwks.json"
    plain.write_text(json.dumps(scene.issuer.jwks(with_iss=False)))
    base = ["--config", str(scene.config), "--db", str(tmp_path / "gate.db")]
    refused = CliRunner().invoke(kiosk_main, ["trust", "import", str(plain), *base])
    assert refused.exit_code != 0 and "--issuer" in refused.output
    bound = CliRunner().invoke(kiosk_main, ["trust", "import", str(plain), "--issuer", scene.issuer.iss, *base])
    assert bound.exit_code == 0 and "1 SMART Health Card issuer key" in bound.output
    removed = CliRunner().invoke(kiosk_main, ["trust", "remove", "plain.jwks.json", *base])
    assert removed.exit_code == 0
    again = CliRunner().invoke(kiosk_main, ["trust", "remove", "plain.jwks.json", *base])
    assert again.exit_code != 0 and "no trust document" in again.output


def test_installed_command_scans_certificate_frames(scene: Scene, tmp_path: Path) -> None:
    """The console script a keeper runs, in its own process."""
    frames = tmp_path / "frames"
    render_frame(good_dcc(scene), frames / "dcc.png")
    for number, chunk in enumerate(shc_chunks(good_shc(scene), 2), start=1):
        render_frame(chunk, frames / f"shc-{number}.png")
    result = subprocess.run(
        [str(KIOSK), "scan", "--source", str(frames), "--config", str(scene.config), "--db", str(tmp_path / "g.db"),
         "--trust", str(scene.trust_dir), "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["code_type"], r["verdict"]) for r in records] == [("HC1", "pass"), ("partial", "hold"), ("SHC", "pass")]
