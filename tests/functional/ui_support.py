"""What the kiosk UI tests share: a freshly issued kit of code images, a gate set up on it, and waiting helpers.

The kit is made by `kiosk.demo.generate` with keys from `pocket-hq keys init` (the real issuing path), so
the app under test decodes real PNG frames and verifies real signatures.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from textual.events import Key
from textual.keys import _character_to_key
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Static

from kiosk.config import KioskConfig
from kiosk.demo import load_lists
from kiosk.demo.generate import PEOPLE, Person, generate, issue_frames
from kiosk.operators import Operator
from kiosk.sound.cues import Cue
from kiosk.store import GateStore
from kiosk.ui.app import GateApp
from kiosk.ui.banner import VerdictWord
from kiosk.ui.messages import VerdictReady
from kiosk.ui.preview import HALF_BLOCK, FrameView, thumbnail
from kiosk.ui.context import KioskContext, open_kiosk
from sync.hq.cli import main as hq_main

KEEPER = Operator("li01", "Li Ming")
MARKUP_NAME = "[bold red]Evil[/] \x1b[2J"
"""A name a hostile issuer could put in a code: Rich markup and a terminal 'clear screen'."""


@dataclass(frozen=True)
class Kit:
    folder: Path
    keys: Path
    frames: Path

    def frame(self, prefix: str) -> Path:
        return next(self.frames.glob(f"{prefix}*.png"))


@pytest.fixture(scope="session")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Kit:
    root = tmp_path_factory.mktemp("kit")
    keys = root / "keys"
    result = CliRunner().invoke(hq_main, ["keys", "init", "--dir", str(keys)])
    assert result.exit_code == 0, result.output
    generate(root / "data", keys=keys)
    markup = Person("09-markup.png", "hostile name", MARKUP_NAME, 1, PEOPLE[0].colour, "pass", "resident", mask=False)
    issue_frames(keys, root / "data" / "frames", (markup,))
    return Kit(root / "data", keys, root / "data" / "frames")


class Camera:
    """A folder with one frame the app's camera plays in a loop; the test puts a code in front of it or takes
    it away (a blank frame), replacing the file whole so the camera never reads half of one."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir()
        self.frame = folder / "person.png"
        self.blank = folder.parent / "blank.png"
        cv2.imwrite(str(self.blank), np.full((480, 640, 3), 200, np.uint8))
        self.show(None)

    def show(self, image: Path | None) -> None:
        staged = self.frame.parent.parent / "staged.png"
        shutil.copy(image or self.blank, staged)
        os.replace(staged, self.frame)


def camera_folder(tmp_path: Path, kit: Kit, *prefixes: str) -> Path:
    """A folder standing in for the camera, holding the kit's frames with these prefixes."""
    folder = tmp_path / "camera"
    folder.mkdir(exist_ok=True)
    for prefix in prefixes:
        shutil.copy(kit.frame(prefix), folder)
    return folder


def gate_config(tmp_path: Path, kit: Kit, source: str | Path, **values: Any) -> KioskConfig:
    config = KioskConfig(
        _env_prefix="POCKET_GATE_TEST_",  # type: ignore[call-arg]
        gate_id="north-gate",
        database=tmp_path / "gate.db",
        trust_dir=kit.folder / "trust",
        district_key_file=kit.folder / "district.key",
        policy_file=kit.folder / "policy.toml",
        source=str(source),
        **values,
    )
    load_lists(config, kit.folder)
    return config


class KeyClock:
    """The kiosk's key clock in a test: every reading is `step` seconds after the last. Pilot hands keys over as
    fast as the app takes them, so the test says how fast they were typed: a person (`PERSON`, the default of
    every UI test) or a keyboard-wedge scanner (`SCANNER`)."""

    PERSON = 0.25
    SCANNER = 0.003

    def __init__(self, step: float = PERSON) -> None:
        self.step = step
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def open_context(config: KioskConfig, **options: Any) -> KioskContext:
    options.setdefault("signed_in", KEEPER)
    options.setdefault("key_clock", KeyClock())
    options.setdefault("reconnect_seconds", 0.2)
    options.setdefault("exports_dir", config.database.parent / "exports")
    return open_kiosk(config, **options)


def entries(config: KioskConfig) -> list[dict[str, Any]]:
    with GateStore(config.database, config.gate_id) as store:
        return store.entries()


@dataclass
class Recorder:
    """Collects the messages the app handles (run_test's message_hook) and the verdict sounds the gate asks for.

    With `database`, each verdict's entry is also looked up there the moment its message reaches the app (before
    any handler shows it), through a connection of the test's own: `logged_when_shown` holds the answers."""

    messages: list[Message] = field(default_factory=list)
    sounds: list[Cue] = field(default_factory=list)
    """The cues played, in order (the player itself is tested with real audio players in test_sound.py)."""
    database: Path | None = None
    logged_when_shown: dict[str, bool] = field(default_factory=dict)
    """Entry id -> whether another connection could read it committed when its verdict arrived to be shown."""

    def __call__(self, message: Message) -> None:
        self.messages.append(message)
        if self.database is not None and isinstance(message, VerdictReady) and message.outcome.entry is not None:
            entry_id = message.outcome.entry.id
            if entry_id not in self.logged_when_shown:  # the first pump it reaches: the gate screen
                with closing(sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)) as other:
                    found = other.execute("SELECT 1 FROM entries WHERE id = ?", [entry_id]).fetchone()
                self.logged_when_shown[entry_id] = found is not None

    def of(self, kind: type[Message]) -> list[Any]:
        """Each message of this kind once (a message that bubbles is seen by every pump it reaches)."""
        unique = {id(m): m for m in self.messages if isinstance(m, kind)}
        return list(unique.values())

    def sound(self, cue: Cue | str) -> None:
        self.sounds.append(Cue(cue))


def recorded_app(context: KioskContext, recorder: Recorder) -> GateApp:
    context.sound.play = recorder.sound  # type: ignore[method-assign]
    return GateApp(context)


def run(scenario: Callable[[], Any], context: KioskContext) -> None:
    """Run the test's async scenario to its end, then close the kiosk context whatever happened."""
    try:
        asyncio.run(scenario())
    finally:
        context.close()


async def wait_for(pilot: Pilot[Any], condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Let the app run until `condition` holds (bounded in time)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {seconds} s")
        await pilot.pause(0.05)


def send_keys(pilot: Pilot[Any], text: str, *, then: tuple[str, ...] = ("enter",)) -> None:
    """Hand the app every key of `text` (then `then`) at once, as a terminal hands over what a keyboard-wedge
    scanner typed in one read: all of them are queued before the app handles the first."""
    app = pilot.app
    assert app._driver is not None
    for char in text:
        key = char if char.isalnum() and char.isascii() else _character_to_key(char)
        app._driver.send_message(Key(key, char).set_sender(app))
    for name in then:
        app._driver.send_message(Key(name, {"enter": "\r", "tab": "\t"}.get(name)).set_sender(app))


def text_of(pilot: Pilot[Any], selector: str) -> str:
    """The plain text a Static shows (what the keeper reads)."""
    widget = pilot.app.screen.query_one(selector, Static)
    return str(widget.render())


def verdict_word(pilot: Pilot[Any]) -> str:
    """The word the verdict banner shows (PASS, HOLD, REFUSED, NOT LOGGED or READY)."""
    return pilot.app.screen.query_one(VerdictWord).word


def preview_fits(pilot: Pilot[Any], image: np.ndarray) -> bool:
    """Whether the preview draws the camera's picture at the size its widget now has (the final layout), as
    its rendered lines show."""
    view = pilot.app.screen.query_one(FrameView)
    expected = thumbnail(image, (view.size.width, view.size.height))
    drawn = [text for y in range(view.size.height) if HALF_BLOCK in (text := view.render_line(y).text)]
    return len(drawn) == expected.shape[0] // 2 and all(text.count(HALF_BLOCK) == expected.shape[1] for text in drawn)
