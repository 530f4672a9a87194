"""Secret files (keys, the district key, a gate's HQ token) are written one way: owner-only from the first byte,
put in place in one step, never overwriting a key by accident, and nothing left beside them."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.core.bundle import SigningKeyError, create_signing_key
from sync.core.codes.keys import PRIVATE_KEY_FILE, IssuerKeyError, create_issuer_keys
from sync.core.identity import DistrictKeyError, create_district_key
from sync.core.secret_files import write_secret


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that takes nothing away: a file is as readable as its creator asks."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_secret_is_owner_only_and_nothing_is_left_beside_it(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "folder" / "token"
    write_secret(path, b"first")
    with pytest.raises(FileExistsError):
        write_secret(path, b"second")
    assert path.read_bytes() == b"first"
    write_secret(path, b"third", overwrite=True)

    assert path.read_bytes() == b"third" and _mode(path) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["token"]


def test_every_key_a_program_makes_is_owner_only_and_never_overwritten(tmp_path: Path, open_umask: None) -> None:
    create_issuer_keys(tmp_path / "keys")
    create_signing_key(tmp_path / "hq-signing.key.pem")

    for secret in (tmp_path / "keys" / PRIVATE_KEY_FILE, tmp_path / "keys" / "district.key", tmp_path / "hq-signing.key.pem"):
        assert _mode(secret) == 0o600, secret
    with pytest.raises(IssuerKeyError):
        create_issuer_keys(tmp_path / "keys")
    with pytest.raises(DistrictKeyError):
        create_district_key(tmp_path / "keys" / "district.key")
    with pytest.raises(SigningKeyError):
        create_signing_key(tmp_path / "hq-signing.key.pem")


def test_a_district_key_is_never_readable_by_others_even_when_setting_modes_fails(
    tmp_path: Path, open_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written first and restricted after, a key is readable by anyone in between, and stays so when the
    restricting fails (a file system that refuses chmod)."""

    def refuse(self: Path, mode: int) -> None:
        raise PermissionError("chmod refused")

    monkeypatch.setattr(Path, "chmod", refuse)
    path = tmp_path / "district.key"
    try:
        create_district_key(path)
    except PermissionError:
        pass

    assert not path.exists() or _mode(path) == 0o600
