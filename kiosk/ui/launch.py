"""Starting the kiosk from the command line: open everything (and the sync with HQ, when the gate is enrolled),
run the app, say where the log is and what has not reached HQ yet."""

from __future__ import annotations

from pathlib import Path

from kiosk.config import KioskConfig
from kiosk.demo import DEMO_OPERATOR, FRAME_SECONDS, prepare_demo
from kiosk.store import entries_phrase
from sync.core.escaping import visible
from kiosk.ui.app import GateApp
from kiosk.ui.context import open_kiosk
from kiosk.sound.clips import SoundSettings
from kiosk.sound.player import SoundPlayer
from sync.core.i18n import _, language


def run_kiosk(config: KioskConfig, *, demo: bool = False, config_file: Path | None = None) -> str:
    """Run the kiosk until the keeper quits; return a line saying what was logged and where."""
    if demo:
        prepare_demo(config)
    context = open_kiosk(
        config,
        sound=SoundPlayer(SoundSettings(config.sound, config.volume, language())),
        demo=demo,
        demo_tour=demo,
        config_file=config_file,
        signed_in=DEMO_OPERATOR if demo else None,
        frame_interval=FRAME_SECONDS if demo else 0.0,
        loop_source=demo,
        source_label=_("demo sample frames") if demo else "",
    )
    try:
        first = _last_seq(context.store.recent(limit=1))
        GateApp(context).run()
        logged = _last_seq(context.store.recent(limit=1)) - first
        line = f"{entries_phrase(logged)} logged this session in {config.database}"
        if context.sync is not None:
            status = context.sync_status()
            why = visible(status.last_error or "", limit=300)
            if status.entries_waiting is None:
                line += f"; whether HQ has them is unknown: {why}"
            elif status.refused:
                line += f"; {status.entries_waiting} not yet at HQ, {status.refused} of them refused by HQ ({why})"
            elif status.entries_waiting:
                line += f"; {status.entries_waiting} not yet at HQ (they go at the next sync)"
            else:
                line += "; HQ has every entry"
    finally:
        context.close()
    return line


def _last_seq(rows: list[dict[str, object]]) -> int:
    return int(rows[0]["seq"]) if rows else 0  # type: ignore[call-overload]
