"""Settings, read-only: what this gate runs on, the rules in force, and how old its lists and keys are.

A keeper cannot change anything here (configuration is the district's), but can read out to a supervisor on
the phone what the gate has, and sees at once when the red/yellow list or trusted keys are out of date.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from kiosk import id_keys
from kiosk.rules_in_force import LIST_TABLES, list_sizes
from kiosk.trust_store import last_confirmed
from kiosk.ui.errors import ShowsWorkerErrors
from kiosk.ui.context import KioskContext
from kiosk.ui.markup_safe import plain
from kiosk.ui.sync_status import describe, is_problem
from kiosk.uplink.status_text import policy_ignored_text
from kiosk.keeper_locale import zone
from kiosk.sound.cues import SoundMode
from kiosk.ui.words import speak_bindings
from sync.core.i18n import LANGUAGE_NAMES, N_, _, language

WARNING = "bold black on yellow"
SOUND_MODES = {
    SoundMode.VOICE: N_("tone and spoken verdict"),
    SoundMode.TONE: N_("tone only"),
    SoundMode.OFF: N_("off"),
}


class SettingsScreen(ShowsWorkerErrors, Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", N_("Back"))]

    def __init__(self, context: KioskContext) -> None:
        super().__init__()
        speak_bindings(self)
        self.context = context

    def compose(self) -> ComposeResult:
        yield Label(_("Settings (read-only: the district changes them)"), id="settings-title")
        yield Static(id="settings-warnings")
        yield DataTable(id="settings", cursor_type="row", show_header=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(_("setting"), _("value"))
        rows = self.rows()
        for label, value in rows:
            table.add_row(Text(label, style="bold"), value)
        # What needs a supervisor's attention comes first, above a table longer than a small terminal.
        warnings = [Text.assemble("⚠ ", (label, "bold"), ": ", value) for label, value in rows if value.style == WARNING]
        notice = self.query_one("#settings-warnings", Static)
        notice.update(Text("\n").join(warnings))
        notice.display = bool(warnings)
        table.focus()

    def rows(self) -> list[tuple[str, Text]]:
        context = self.context
        config = context.config
        gate = context.gate
        where = _("built-in demo") if context.demo else str(context.config_file or _("none (defaults)"))
        rows: list[tuple[str, Text]] = [
            (_("gate id"), plain(config.gate_id)),
            (_("configuration"), plain(where)),
            (_("database"), plain(str(config.database))),
            (_("camera source"), plain(config.source)),
            (_("language"), Text(LANGUAGE_NAMES.get(language(), language()))),
            (_("time zone"), Text(str(zone() or _("this laptop's")))),
            (_("verdict shown for"), Text(_("{seconds:g} s").format(seconds=config.banner_seconds))),
            (_("same code ignored for"), Text(_("{seconds:g} s").format(seconds=config.debounce_seconds))),
            (_("entries kept for"), Text(_("{days} days").format(days=config.retention_days))),
            (_("policy file"), plain(str(config.policy_file or _("none (field defaults)")))),
        ]
        rows += [(_("rule: {label}").format(label=label), Text(value)) for label, value in gate.policy.lines()]
        status = context.sync_status()
        if status.policy_ignored:
            rows.append((_("HQ policy not applied"), plain(policy_ignored_text(status.policy_ignored), style=WARNING)))
        sources = [str(config.trust_dir)] if config.trust_dir else []
        keys_confirmed_at = last_confirmed(context.store)
        if keys_confirmed_at is not None:
            sources.append(_("the gate database (HQ, trust import)"))
        keys = Text(
            _("{count} from {sources}").format(count=len(gate.trust), sources=_(" and ").join(sources) or _("nowhere"))
        )
        if len(gate.trust) == 0:
            keys = Text(_("none: every code will be refused"), style=WARNING)
        rows.append((_("trusted issuer keys"), keys))
        id_key_text, id_key_warning = id_keys.describe(context.store, config.district_key_file)
        rows.append((_("district key"), plain(id_key_text, style=WARNING if id_key_warning else "")))
        rows.append((_("sound"), self._sound()))
        sizes = list_sizes(config.database)
        rows += [(_(LIST_TABLES[table]), Text(str(count))) for table, count in sizes.items()]
        now = context.clock()
        ages = context.rules.ages(
            bundle_version=status.bundle_version, lists_checked_at=status.bundle_checked_at, now=now
        )
        for age in ages:
            text = age.describe()
            shown_text = _("OUT OF DATE: {age}").format(age=text) if age.stale else text
            label = _("{list} age").format(list=_(age.label))
            rows.append((label, Text(shown_text, style=WARNING if age.stale else "")))
        rows.append((_("HQ"), plain(config.hq_url or _("none: not enrolled (pocket-kiosk enroll)"))))
        sync_text = Text(describe(status, now, error_chars=0), style=WARNING if is_problem(status) else "")
        rows.append((_("sync"), sync_text))
        if status.last_error:
            rows.append((_("last sync error"), plain(status.last_error, limit=500, style=WARNING)))
        return rows

    def _sound(self) -> Text:
        """The verdict sounds as configured, and what keeps them from it (no speaker, no espeak-ng), if anything."""
        config, status = self.context.config, self.context.sound.status
        said = _(SOUND_MODES[config.sound])
        if config.sound is not SoundMode.OFF:
            said = _("{mode}, volume {volume}").format(mode=said, volume=config.volume)
        if status.problems:
            return Text("; ".join((said, *status.problems)), style=WARNING)
        return Text(said)
