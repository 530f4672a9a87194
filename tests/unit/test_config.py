"""Gate configuration: the example file, relative paths, environment overrides and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import ConfigError, KioskConfig, load_config

REPO = Path(__file__).resolve().parents[2]


def test_example_config_loads_with_paths_relative_to_it() -> None:
    config = load_config(REPO / "config" / "kiosk.example.toml")
    assert config.gate_id == "north-gate"
    assert config.database == REPO / "config" / "north-gate.db"
    assert config.trust_dir == REPO / "config" / "keys" / "trust"
    assert config.retention_days == 28


def test_every_field_is_documented() -> None:
    source = (REPO / "kiosk" / "config.py").read_text()
    for name in KioskConfig.model_fields:
        block = source.split(f"\n    {name}:", 1)[1].split("\n", 2)[1]
        assert block.strip().startswith('"""'), f"{name} has no docstring"


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text('gate_id = "east"\nretention_days = 10\n')
    monkeypatch.setenv("POCKET_GATE_RETENTION_DAYS", "14")
    config = load_config(path)
    assert (config.gate_id, config.retention_days) == ("east", 14)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("gate_id = \n", "not valid TOML"),
        ('gate_id = "has spaces"\n', "gate_id"),
        ("retention_days = 0\n", "retention_days"),
        ('camera = "0"\n', "camera"),
        ("\xff\xfe", "not valid TOML"),
    ],
)
def test_corrupt_config_gives_a_clear_error(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_bytes(content.encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert fragment in str(caught.value) and str(path) in str(caught.value)


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "absent.toml")
