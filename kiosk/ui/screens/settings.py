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

WARNING = "bold black on yellow"


class SettingsScreen(ShowsWorkerErrors, Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, context: KioskContext) -> None:
        super().__init__()
        self.context = context

    def compose(self) -> ComposeResult:
        yield Label("Settings (read-only: the district changes them)", id="settings-title")
        yield Static(id="settings-warnings")
        yield DataTable(id="settings", cursor_type="row", show_header=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("setting", "value")
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
        where = "built-in demo" if context.demo else str(context.config_file or "none (defaults)")
        rows: list[tuple[str, Text]] = [
            ("gate id", plain(config.gate_id)),
            ("configuration", plain(where)),
            ("database", plain(str(config.database))),
            ("camera source", plain(config.source)),
            ("verdict shown for", Text(f"{config.banner_seconds:g} s")),
            ("same code ignored for", Text(f"{config.debounce_seconds:g} s")),
            ("entries kept for", Text(f"{config.retention_days} days")),
            ("policy file", plain(str(config.policy_file or "none (field defaults)"))),
        ]
        rows += [(f"rule: {label}", Text(value)) for label, value in gate.policy.lines()]
        status = context.sync_status()
        if status.policy_ignored:
            rows.append(("HQ policy not applied", plain(policy_ignored_text(status.policy_ignored), style=WARNING)))
        sources = [str(config.trust_dir)] if config.trust_dir else []
        keys_confirmed_at = last_confirmed(context.store)
        if keys_confirmed_at is not None:
            sources.append("the gate database (HQ, trust import)")
        keys = Text(f"{len(gate.trust)} from {' and '.join(sources) or 'nowhere'}")
        if len(gate.trust) == 0:
            keys = Text("none: every code will be refused", style=WARNING)
        rows.append(("trusted issuer keys", keys))
        id_key_text, id_key_warning = id_keys.describe(context.store, config.district_key_file)
        rows.append(("district key", plain(id_key_text, style=WARNING if id_key_warning else "")))
        sizes = list_sizes(config.database)
        rows += [(LIST_TABLES[table], Text(str(count))) for table, count in sizes.items()]
        now = context.clock()
        ages = context.rules.ages(
            bundle_version=status.bundle_version, lists_checked_at=status.bundle_checked_at, now=now
        )
        for age in ages:
            text = age.describe()
            shown_text = ("OUT OF DATE: " + text) if age.stale else text
            rows.append((f"{age.label} age", Text(shown_text, style=WARNING if age.stale else "")))
        rows.append(("HQ", plain(config.hq_url or "none: not enrolled (pocket-kiosk enroll)")))
        rows.append(("sync", Text(describe(status, now, error_chars=0), style=WARNING if is_problem(status) else "")))
        if status.last_error:
            rows.append(("last sync error", plain(status.last_error, limit=500, style=WARNING)))
        return rows
