"""The gate's HQ settings in kiosk.toml: relative paths follow the file, bad values are refused readably."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import ConfigError, load_config


def test_hq_files_are_relative_to_the_config(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text('hq_url = "https://hq.example.org"\nhq_token_file = "hq.token"\nhq_key_file = "keys/hq.pub.pem"\n')

    loaded = load_config(config)

    assert loaded.hq_token_file == tmp_path / "hq.token"
    assert loaded.hq_key_file == tmp_path / "keys" / "hq.pub.pem"
    assert (loaded.sync_interval_seconds, loaded.sync_batch_entries) == (60.0, 1000)


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('hq_url = "ftp://hq"', "hq_url"),
        ("sync_interval_seconds = 0", "sync_interval_seconds"),
        ("sync_batch_entries = 100000", "sync_batch_entries"),
        ("sync_batch_bytes = 10", "sync_batch_bytes"),
    ],
)
def test_bad_hq_settings_are_refused(tmp_path: Path, line: str, words: str) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(line + "\n")
    with pytest.raises(ConfigError, match=words):
        load_config(config)
