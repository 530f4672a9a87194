"""Hostile text made printable."""

from sync.core.escaping import visible


def test_control_and_format_characters_become_visible_escapes() -> None:
    assert visible("A\x1b[2JB\x07") == "A\\x1b[2JB\\x07"
    assert visible("x\x7fy\x9bz") == "x\\x7fy\\x9bz"
    assert visible("abc\u202edcba") == "abc\\u202edcba"
    assert visible("line\nbreak") == "line\\x0abreak"


def test_ordinary_text_and_markup_pass_through() -> None:
    assert visible("张三 [bold]x[/] 36.6 °C") == "张三 [bold]x[/] 36.6 °C"


def test_length_is_bounded() -> None:
    assert visible("a" * 500, limit=10) == "a" * 10 + "…"
    assert visible("\x00" * 5, limit=2) == "\\x00\\x00…"
