"""ID numbers: check digits, keyed hashes, masking."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync.core.identity import (
    DistrictKeyError,
    create_district_key,
    load_district_key,
    mask_name,
    resident_id_problem,
    subject_hash,
)


def test_known_resident_id_check_digits() -> None:
    assert resident_id_problem("11010519491231002X") is None
    assert resident_id_problem("110105 19491231 002x") is None
    assert resident_id_problem("110105194912310021") == "the check digit does not match: the number was mistyped"
    assert resident_id_problem("1101051949") == "a resident ID has 18 characters, this one has 10"
    assert resident_id_problem("A1010519491231002X") == "the first 17 characters of a resident ID are digits"


def test_subject_hash_is_keyed_and_normalised() -> None:
    key_a, key_b = b"a" * 32, b"b" * 32
    h = subject_hash(key_a, "11010519491231002X")
    assert h == subject_hash(key_a, "110105 19491231 002x")
    assert h != subject_hash(key_b, "11010519491231002X")
    assert h != subject_hash(key_a, "11010519491231002X", doc_type="passport")
    assert len(h) == 32 and "11010519491231002X".lower() not in h


@pytest.mark.parametrize(
    ("name", "masked"),
    [("Zhang San", "Z**** S**"), ("张三", "张*"), ("李小龙", "李**"), ("X", "X*"), ("", ""), ("  ", "")],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_district_key_round_trip_and_protection(tmp_path: Path) -> None:
    path = tmp_path / "district.key"
    key = create_district_key(path)
    assert load_district_key(path) == key
    assert path.stat().st_mode & 0o077 == 0
    with pytest.raises(DistrictKeyError, match="never overwritten"):
        create_district_key(path)


def test_bad_district_key_files(tmp_path: Path) -> None:
    with pytest.raises(DistrictKeyError, match="cannot read"):
        load_district_key(tmp_path / "missing")
    (tmp_path / "bad").write_text("not hex")
    with pytest.raises(DistrictKeyError, match="hex"):
        load_district_key(tmp_path / "bad")
    (tmp_path / "short").write_text("abcd")
    with pytest.raises(DistrictKeyError, match="at least 16"):
        load_district_key(tmp_path / "short")
