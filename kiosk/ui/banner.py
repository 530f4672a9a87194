"""The verdict banner: the whole right side turns green, amber or red with the verdict word and its reasons.

It shows only committed entries (the screen calls it after the gate returned a logged outcome) and clears
itself back to the instructions after the configured number of seconds.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.containers import Vertical
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Static

from kiosk.export import details_of
from kiosk.gate import Outcome
from kiosk.keeper_locale import local_time, zone
from kiosk.ui.bigtext import big_text
from kiosk.ui.markup_safe import plain
from sync.core.i18n import N_, _
from sync.core.policy import Decision, Direction
from sync.core.wording import say

WORDS = {Decision.PASS: N_("PASS"), Decision.HOLD: N_("HOLD"), Decision.REFUSE: N_("REFUSED")}
"""The verdict words in large letters; every translation must be drawable (tests/unit/test_bigtext.py)."""
IDLE_WORD = N_("READY")
NOT_LOGGED_WORD = N_("NOT LOGGED")
BANNER_WORDS = (*WORDS.values(), IDLE_WORD, NOT_LOGGED_WORD)
HINTS = {
    Decision.PASS: N_("Let them through."),
    Decision.HOLD: N_("Stop them and check before letting them through."),
    Decision.REFUSE: N_("Do not let them through."),
}
COLOURS = {"green": N_("green code"), "yellow": N_("yellow code"), "red": N_("red code")}
STATES = ("-idle", "-pass", "-hold", "-refuse")


class VerdictWord(Widget):
    """The verdict in large letters when they fit, else letter-spaced; `word` is what it says.

    Latin letters are three lines tall; Chinese characters take up to two fifths of the banner's height (six lines
    at 80x24, eight to ten at 120x40), so the word grows with the terminal while the reasons below keep their room.
    """

    word = ""

    def show(self, word: str) -> None:
        self.word = word
        self.refresh(layout=True)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(big_text(self.word, width, rows=container.height * 2 // 5))

    def render(self) -> RenderResult:
        return Text("\n".join(big_text(self.word, self.size.width, rows=self.size.height)), style="bold")


class VerdictBanner(Vertical):
    shown: Outcome | None = None
    """The outcome on show, or None when idle (a temperature typed now is for the next person)."""
    camera_live = True
    """Whether the camera is delivering frames: when it is not, the idle banner points to manual entry."""

    def compose(self) -> ComposeResult:
        yield VerdictWord(id="verdict-word")
        yield Static(id="verdict-who")
        yield Static(id="verdict-reasons")
        yield Static(id="verdict-note")

    def on_mount(self) -> None:
        self.show_idle()

    def _state(self, state: str) -> None:
        self.remove_class(*STATES)
        self.add_class(state)

    def _set(self, word: str, who: str | Text, reasons: str | Text, note: str | Text) -> None:
        self.query_one(VerdictWord).show(word)
        self.query_one("#verdict-who", Static).update(who)
        self.query_one("#verdict-reasons", Static).update(reasons)
        self.query_one("#verdict-note", Static).update(note)

    def show_idle(self) -> None:
        self._state("-idle")
        self.shown = None
        if self.camera_live:
            self._set(
                _(IDLE_WORD),
                Text(_("Show the health code to the camera.")),
                Text(_("No phone code?  m  manual entry   ·   v  visitor")),
                Text(""),
            )
            return
        self._set(
            _(IDLE_WORD),
            Text(_("No camera: type people in instead."), style="bold"),
            Text(_("m  manual entry   ·   v  visitor")),
            Text(_("The camera is tried again by itself; scanning starts when it answers."), style="italic"),
        )

    def show_outcome(self, outcome: Outcome, origin: str) -> None:
        assert outcome.entry is not None
        self.shown = outcome
        row = outcome.entry.row
        verdict = outcome.assessment.verdict
        self._state(f"-{verdict.decision.value}")
        who = Text(" · ").join(self._who(outcome, row))
        # A no-break space after the bullet: a Chinese reason has no spaces, so it folds within the line instead
        # of leaving the bullet alone on the one before.
        lines = [Text.assemble("•\u00a0", plain(say(reason, zone()), limit=160)) for reason in verdict.reasons]
        lines += [Text.assemble(("⚠ ", "bold"), plain(say(warning, zone()), limit=160)) for warning in verdict.warnings]
        reasons = Text("\n").join(lines)
        note = Text.assemble(_(HINTS[verdict.decision]), "\n", self._note(outcome, origin))
        self._set(_(WORDS[verdict.decision]), who, reasons, note)

    def _who(self, outcome: Outcome, row: dict[str, object]) -> list[Text]:
        parts: list[Text] = []
        name = str(row.get("name") or "")
        code_type = str(row["code_type"])
        if name:
            parts.append(plain(name, limit=40, style="bold"))
        if code_type == "manual":
            parts.append(Text(_("manual entry")))
        elif code_type == "visitor":
            details = details_of(row)
            parts.append(Text.assemble(_("visitor to "), plain(details.get("household"), limit=40)))
            parts.append(plain(details.get("reason"), limit=60))
        elif code_type == "companion":
            parts.append(Text(_("companion")))
        elif code_type == "invalid" or outcome.assessment.error is not None:
            parts.append(Text(_("code not valid")))
        colour = outcome.assessment.verdict.colour
        if colour is not None:
            parts.append(Text(_(COLOURS[colour.value])))
        parts.append(Text(_("entering") if row["direction"] == Direction.IN.value else _("leaving")))
        parts.append(Text(local_time(str(row["ts"]), "%H:%M:%S")))
        return parts

    def _note(self, outcome: Outcome, origin: str) -> Text:
        assert outcome.entry is not None
        row = outcome.entry.row
        pieces = [_("Logged as entry {seq}").format(seq=outcome.entry.seq)]
        if row["temperature"] is not None:
            pieces.append(f"{row['temperature']:.1f} °C")
        if origin == "temperature":
            pieces.append(_("re-judged with the temperature"))
        elif origin == "scanner":
            pieces.append(_("read by the QR scanner"))
        return Text(_("{pieces}.").format(pieces=" · ".join(pieces)), style="italic")

    def show_failure(self, error: str) -> None:
        """Nothing was logged: the keeper must not act on a verdict."""
        self.shown = None
        self._state("-refuse")
        self._set(
            _(NOT_LOGGED_WORD),
            Text(_("The entry could not be saved. Do not let anyone through on this scan.")),
            plain(error),
            Text(_("Tell your supervisor: the gate's disk or database needs attention."), style="italic"),
        )
