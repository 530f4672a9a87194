"""TLS on the wire, on 127.0.0.1 with certificates made by `pocket-hq tls init`: HQ serves HTTPS, enrolment pins
its certificate by the fingerprint `gates add` prints, a different certificate is refused with a clear message and
nothing sent, a plain-http HQ elsewhere is refused before any request, and the staff cookie is Secure over HTTPS."""

from __future__ import annotations

import ipaddress
import os
import select as selectors
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select
from tests.dash_testkit import Staff, make_user
from tests.sync_testkit import RunningHq, hq_db_url, signing_key_file, start_hq  # noqa: F401

from kiosk.cli import main as kiosk_main
from kiosk.config import load_config
from kiosk.store import EntryDraft, GateStore
from kiosk.uplink.client import SyncService
from kiosk.uplink.enrollment import EnrolmentError, enroll
from kiosk.uplink.status import Connection
from kiosk.uplink.tls import pinned_context
from sync.core.policy import Decision, Direction, Verdict
from sync.hq.cli import main as hq_main
from sync.core.tls import certificate_fingerprint
from sync.hq.gates import add_gate
from sync.hq.staff import Role
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

    assert "is not vouched for by an authority this laptop trusts" in unpinned.output
    assert "give --tls-fingerprint as `pocket-hq gates add` printed it" in unpinned.output
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


def test_the_dashboard_s_token_page_gives_the_certificate_fingerprint_to_pin_over_https(
    https_hq: RunningHq, certificates: dict[str, tuple[Path, Path, str]]
) -> None:
    make_user(https_hq.db, "ada", Role.ADMIN)
    admin = Staff(https_hq.url, "ada", verify=pinned_context(certificates["hq"][0].read_bytes()))
    try:
        page = admin.post("/admin/gates", {"gate_id": "west-gate"})
    finally:
        admin.close()
    assert page.status_code == 200
    assert f'id="tls-fingerprint">{certificates["hq"][2]}<' in page.text
    assert "--token - --fingerprint " in page.text and f"--tls-fingerprint {certificates['hq'][2]}</pre>" in page.text


def test_the_staff_cookie_is_secure_whenever_hq_serves_https(
    https_hq: RunningHq, certificates: dict[str, tuple[Path, Path, str]]
) -> None:
    pinned = pinned_context(certificates["hq"][0].read_bytes())
    page = httpx.get(https_hq.url + "/login", verify=pinned)
    assert page.status_code == 200 and "; secure" in page.headers["set-cookie"].lower()


def _issued_by_a_ca(folder: Path) -> tuple[Path, Path, Path]:
    """A district's own certificate authority (its certificate, which this laptop is made to trust) and HQ's
    certificate for 127.0.0.1 signed by it: (CA certificate, HQ certificate, HQ key)."""
    now = datetime.now(UTC)
    ca_key, hq_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "District CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1)).add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), True)
        .sign(ca_key, hashes.SHA256())
    )
    hq = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name).public_key(hq_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    files = folder / "ca.crt", folder / "hq-ca-signed.crt", folder / "hq-ca-signed.key"
    files[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files[1].write_bytes(hq.public_bytes(serialization.Encoding.PEM))
    files[2].write_bytes(hq_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
    return files


class TlsFront:
    """HTTPS in front of a plain-HTTP HQ on 127.0.0.1 that answers each connection with the certificate
    `certificate_for(n)` picks for the n-th one: the district's real front, or someone on the network between a
    gate and HQ who lets one connection through to the real certificate and answers the others with their own."""

    def __init__(self, backend: str, certificate_for: Callable[[int], tuple[Path, Path]]) -> None:
        self._backend = httpx.URL(backend)
        self._certificate_for = certificate_for
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.url = f"https://127.0.0.1:{self._server.getsockname()[1]}"
        self.handshakes = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> TlsFront:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)
        self._server.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                raw, _ = self._server.accept()
            except TimeoutError:
                continue
            cert, key = self._certificate_for(self.handshakes)
            self.handshakes += 1
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            threading.Thread(target=self._relay, args=(raw, context), daemon=True).start()

    def _relay(self, raw: socket.socket, context: ssl.SSLContext) -> None:
        """Bytes both ways until either side closes or is quiet for 10 s."""
        raw.settimeout(10)
        try:
            with context.wrap_socket(raw, server_side=True) as front, socket.create_connection(
                (self._backend.host, self._backend.port), timeout=10
            ) as back:
                while True:
                    ready, _, _ = selectors.select([front, back], [], [], 10)
                    if not ready:
                        return
                    for source in ready:
                        data = source.recv(65536)
                        if not data:
                            return
                        (back if source is front else front).sendall(data)
                        while source is front and front.pending():
                            back.sendall(front.recv(65536))
        except (OSError, ssl.SSLError):  # a client that refused the certificate hangs up mid-handshake
            return


def test_without_a_fingerprint_enrolment_pins_only_a_certificate_an_authority_vouched_for_in_that_handshake(
    hq_db_url: str, signing_key_file: Path, certificates: dict[str, tuple[Path, Path, str]], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ca, cert, key = _issued_by_a_ca(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # this laptop trusts the district's authority
    impostor = certificates["other"][0], certificates["other"][1]
    for hq in start_hq(hq_db_url, signing_key_file):
        # The district's front: its authority vouches for the certificate, no fingerprint needed.
        with TlsFront(hq.url, lambda n: (cert, key)) as front:
            config = _gate_folder(tmp_path)
            enrolled = enroll(config, front.url, add_gate(hq.db, "north-gate"))
        assert enrolled.certificate == certificate_fingerprint(cert.read_bytes())

        # Someone on the network answers every connection but the second with their own certificate: the one
        # they let through to the real one must not vouch for theirs.
        with TlsFront(hq.url, lambda n: (cert, key) if n == 1 else impostor) as front:
            config = tmp_path / "second" / "kiosk.toml"
            config.parent.mkdir()
            config.write_text('database = "gate.db"\n')
            with pytest.raises(EnrolmentError, match="not vouched for by an authority this laptop trusts"):
                enroll(config, front.url, add_gate(hq.db, "south-gate"))
        assert config.read_text() == 'database = "gate.db"\n' and load_config(config).hq_cert_file is None
