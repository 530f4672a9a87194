"""`pocket-kiosk --demo`: a whole gate from files shipped in the package, with no webcam and no configuration.

The demo brings its own trusted key, district key, policy (yellow is held, so every kind of verdict shows),
roster, HQ pass and red list, and plays sample frames (`data/frames/`, made by `kiosk.demo.generate` through
the real issuing path) in a loop as if people were walking up to the camera. Its log is a real gate database,
per user (`~/.local/share/pocket-gate/demo/demo-gate.db`) unless another is given, and it signs in a demo
operator so the first verdict appears without a key press.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sync.core.codes.keys import DISTRICT_KEY_FILE, TRUST_SUBDIR
from kiosk.config import DEFAULT_DATA, KioskConfig
from sync.core.identity import load_district_key, subject_hash
from kiosk.operators import Operator, OperatorBook
from sync.core.roster_csv import read_roster
from kiosk.store import GateStore
from sync.core.clock import utc_text

DATA = Path(__file__).resolve().parent / "data"
FRAMES = DATA / "frames"
DEFAULT_DEMO_DB = DEFAULT_DATA / "demo" / "demo-gate.db"
DEMO_OPERATOR = Operator("demo", "Demo Keeper")
DEMO_PIN = "0000"
FRAME_SECONDS = 3.0
"""How long each sample frame stays in front of the demo's camera."""


@dataclass(frozen=True)
class DemoPerson:
    file: str
    what: str
    expect: str
    reason: str


def manifest() -> dict[str, Any]:
    return dict(json.loads((DATA / "manifest.json").read_text(encoding="utf-8")))


def people() -> list[DemoPerson]:
    """The sample frames in playing order, with the verdict the demo policy gives each."""
    return [DemoPerson(f["file"], f["what"], f["expect"], f["reason"]) for f in manifest()["frames"]]


def demo_config(
    database: Path | None = None, *, source: str | None = None, keeper: KioskConfig | None = None
) -> KioskConfig:
    """The demo gate's configuration. It reads no file, and no POCKET_GATE_* variable either (a real gate's
    settings in the environment must not leak into the demo), hence the private environment prefix; only the
    keeper's own choices (language, time zone, sound, volume) come from `keeper`, the gate's configuration."""
    own = {} if keeper is None else {k: getattr(keeper, k) for k in ("language", "timezone", "sound", "volume")}
    return KioskConfig(
        _env_prefix="POCKET_GATE_DEMO_",  # type: ignore[call-arg]
        gate_id="demo-gate",
        database=database or DEFAULT_DEMO_DB,
        trust_dir=DATA / TRUST_SUBDIR,
        district_key_file=DATA / DISTRICT_KEY_FILE,
        policy_file=DATA / "policy.toml",
        source=source or str(FRAMES),
        debounce_seconds=5,
        banner_seconds=4,
        **own,
    )


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def load_lists(config: KioskConfig, folder: Path = DATA) -> None:
    """Load a kit's roster, HQ passes and red/yellow list (CSV with raw demo ID numbers) into the database,
    hashing the numbers with the configured district key as HQ would. They did not come from HQ, so the
    settings screen calls them never updated from HQ (as it would any list a gate loaded by itself)."""
    assert config.district_key_file is not None
    key = load_district_key(config.district_key_file)
    with GateStore(config.database, config.gate_id) as store:
        store.replace_table("roster", read_roster(folder / "roster.csv", key))
        store.replace_table(
            "passes",
            [
                {
                    "id": f"demo-pass-{number}",
                    "subject": subject_hash(key, row["id_number"]),
                    "kind": row["kind"],
                    "valid_from": utc_text(datetime.fromisoformat(row["valid_from"])),
                    "valid_until": utc_text(datetime.fromisoformat(row["valid_until"])),
                    "note": "demo",
                }
                for number, row in enumerate(_read(folder / "passes.csv"), start=1)
            ],
        )
        store.replace_table(
            "colour_list",
            [
                {"subject": subject_hash(key, row["id_number"]), "colour": row["colour"], "note": row["note"]}
                for row in _read(folder / "colour_list.csv")
            ],
        )


def prepare_demo(config: KioskConfig) -> None:
    """Load the demo's roster, HQ pass and red list into its database and make sure the demo operator exists."""
    load_lists(config, DATA)
    with OperatorBook(config.database) as book:
        if DEMO_OPERATOR.id not in {op.id for op in book.operators()}:
            book.add(DEMO_OPERATOR.id, DEMO_OPERATOR.name, DEMO_PIN, replace=True)
