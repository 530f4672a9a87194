"""TLS on the wire, on 127.0.0.1 with certificates made by `pocket-hq tls init`: HQ serves HTTPS, enrolment pins
its certificate by the fingerprint `gates add` prints, a different certificate is refused with a clear message and
nothing sent, a plain-http HQ elsewhere is refused before any request, and the staff cookie is Secure over HTTPS."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from tests.sync_testkit import RunningHq, hq_db_url, signing_key_file, start_hq  # noqa: F401

from kiosk.cli import main as kiosk_main
from kiosk.config import load_config
from kiosk.store import EntryDraft, GateStore
from kiosk.uplink.client import SyncService
from kiosk.uplink.status import Connection
from kiosk.uplink.tls import pinned_context
from sync.core.policy import Decision, Direction, Verdict
from sync.hq.cli import main as hq_main
from sync.hq.tables import gates

REPO = Path(__file__).resolve().parents[2]


def run(command: object, *args: str, code: int = 0, stdin: str | None = None) -> Result:
    result = CliRunner().invoke(command, list(args), input=stdin)  # type: ignore[arg-type]
    assert result.exit_code == code, result.output + str(result.exception or "")
    return result


def _certificate(folder: Path) -> tuple[Path, Path, str]:
    cert, key = folder / "hq-tls.crt", folder / "hq-tls.key"
    made = run(hq_main, "tls", "init", "--host", "127.0.0.1", "--host", "localhost", "--cert", str(cert), "--key", str(key))
    return cert, key, made.stdout.split("fingerprint: ")[1].split()[0]


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path, str]]:
    """HQ's certificate, and another one made the same way (an impostor's, or HQ's replaced one)."""
    return {name: _certificate(tmp_path_factory.mktemp(name)) for name in ("hq", "other")}


@pytest.fixture
def https_hq(
    hq_db_url: str, signing_key_file: Path, certificates: dict[str, tuple[Path, Path, str]]
) -> Iterator[RunningHq]:
    cert, key, _ = certificates["hq"]
    yield from start_hq(hq_db_url, signing_key_file, tls_cert_file=cert, tls_key_file=key)


def _gate_folder(tmp_path: Path) -> Path:
    config = tmp_path / "gate" / "kiosk.toml"
    config.parent.mkdir()
    config.write_text('database = "gate.db"\nsync_retry_seconds = 0\nsync_timeout_seconds = 5\n')
    return config


def _added(hq: RunningHq, signing_key_file: Path, cert: Path, gate: str = "north-gate") -> tuple[str, str, str]:
    """`gates add` as the operator runs it: the token, the signing key's and the certificate's fingerprints."""
    added = run(hq_main, "gates", "add", gate, "--db", hq.settings.db, "--signing-key", str(signing_key_file),
                "--tls-cert", str(cert))
    lines = added.stdout.splitlines()
    token = next(line for line in lines if line.startswith("pgt_"))
    enrol_line = next(line for line in lines if "pocket-kiosk enroll" in line)
    words = enrol_line.split()
    assert words[words.index("--token") + 1] == "-"  # the token is read from standard input, never on the line
    return token, words[words.index("--fingerprint") + 1], words[words.index("--tls-fingerprint") + 1]


def test_enrolment_pins_hq_s_certificate_by_the_fingerprint_gates_add_prints(
    https_hq: RunningHq, signing_key_file: Path, certificates: dict[str, tuple[Path, Path, str]], tmp_path: Path
) -> None:
    cert, _, made = certificates["hq"]
    token, signing, certificate = _added(https_hq, signing_key_file, cert)
    assert https_hq.url.startswith("https://127.0.0.1:") and certificate == made
    config = _gate_folder(tmp_path)

    enrolled = run(kiosk_main, "enroll", "--hq", https_hq.url, "--token", "-", "--fingerprint", signing,
                   "--tls-fingerprint", certificate.upper(), "--config", str(config), stdin=token + "\n")

    assert f"HQ certificate pinned: {certificate}" in enrolled.stdout and "online: 0 waiting" in enrolled.stdout
    settings = load_config(config)
    assert settings.hq_cert_file is not None and settings.hq_cert_file.read_bytes() == cert.read_bytes()
    with GateStore(settings.database, settings.gate_id) as store:
        store.record(EntryDraft(Direction.IN, "manual", Verdict(Decision.PASS, ("resident",), None)))
    service = SyncService(settings)
    try:
        status = service.run_once()
    finally:
        service.close()
    assert status.connection is Connection.ONLINE and status.entries_waiting == 0
    assert https_hq.entry_count("north-gate") == 1


def test_enrolment_refuses_a_certificate_it_cannot_vouch_for_and_changes_nothing(
    https_hq: RunningHq, signing_key_file: Path, certificates: dict[str, tuple[Path, Path, str]], tmp_path: Path
) -> None:
    token, signing, _ = _added(https_hq, signing_key_file, certificates["hq"][0])
    config = _gate_folder(tmp_path)
    before = config.read_text()

    unpinned = run(kiosk_main, "enroll", "--hq", https_hq.url, "--token", "-", "--config", str(config),
                   stdin=token + "\n", code=1)
    wrong = run(kiosk_main, "enroll", "--hq", https_hq.url, "--token", "-", "--tls-fingerprint",
                certificates["other"][2], "--config", str(config), stdin=token + "\n", code=1)

    assert "is not signed by an authority this laptop trusts: give --tls-fingerprint" in unpinned.output
    assert f"not the {certificates['other'][2]} you were given: refusing to enrol" in wrong.output
    assert config.read_text() == before and sorted(p.name for p in config.parent.iterdir()) == ["kiosk.toml"]


def test_a_gate_refuses_any_other_certificate_after_enrolment_saying_so(
    hq_db_url: str, signing_key_file: Path, certificates: dict[str, tuple[Path, Path, str]], tmp_path: Path
) -> None:
    cert, key, certificate = certificates["hq"]
    config = _gate_folder(tmp_path)
    for hq in start_hq(hq_db_url, signing_key_file, tls_cert_file=cert, tls_key_file=key):
        token, signing, _ = _added(hq, signing_key_file, cert)
        run(kiosk_main, "enroll", "--hq", hq.url, "--token", "-", "--fingerprint", signing, "--tls-fingerprint",
            certificate, "--no-sync", "--config", str(config), stdin=token + "\n")
    other_cert, other_key, _ = certificates["other"]
    for impostor in start_hq(str(tmp_path / "impostor.db"), signing_key_file, tls_cert_file=other_cert,
                             tls_key_file=other_key):
        impostor.add_gate("north-gate")  # it would take the gate's token if the gate sent it
        config.write_text(config.read_text().replace(hq.url, impostor.url))  # the address now leads to it
        settings = load_config(config)
        with GateStore(settings.database, settings.gate_id) as store:
            store.record(EntryDraft(Direction.IN, "manual", Verdict(Decision.PASS, ("resident",), None)))

        status = run(kiosk_main, "sync", "--once", "--config", str(config), code=1)

        assert "presented a certificate that is not the one this gate pinned at enrolment" in status.output
        assert "nothing was sent to it" in status.output and "offline" not in status.output.split("·")[0]
        assert impostor.entry_count() == 0
        with impostor.db.read() as conn:  # it never heard from the gate: no request got through the handshake
            assert conn.execute(select(gates.c.last_seen_at)).scalar_one() is None


def test_a_plain_http_hq_elsewhere_is_refused_before_any_request(tmp_path: Path) -> None:
    """Run in an empty network namespace (`unshare -n`), where nothing can leave: the refusal names plain http
    (not a failed connection), and with --insecure-http the same command does try to connect, and fails."""
    config = _gate_folder(tmp_path)
    before = config.read_text()
    kiosk = str(Path(sys.executable).with_name("pocket-kiosk"))
    command = ["unshare", "-n", kiosk, "enroll", "--hq", "http://hq.example.org:8000", "--token", "-", "--config",
               str(config)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    refused = subprocess.run(command, input="pgt_secret\n", capture_output=True, text=True, timeout=60, env=env)
    tried = subprocess.run([*command, "--insecure-http"], input="pgt_secret\n", capture_output=True, text=True,
                           timeout=60, env=env)

    assert refused.returncode == 1
    assert "refusing to enrol with HQ over plain http:// (http://hq.example.org:8000)" in refused.stderr
    assert "--insecure-http" in refused.stderr
    assert tried.returncode == 1 and "unreachable" in tried.stderr  # it did try: nothing answers in the namespace
    assert config.read_text() == before


def test_the_staff_cookie_is_secure_whenever_hq_serves_https(
    https_hq: RunningHq, certificates: dict[str, tuple[Path, Path, str]]
) -> None:
    pinned = pinned_context(certificates["hq"][0].read_bytes())
    page = httpx.get(https_hq.url + "/login", verify=pinned)
    assert page.status_code == 200 and "; secure" in page.headers["set-cookie"].lower()
