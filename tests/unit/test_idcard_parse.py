"""What is taken from a card's OCR lines (kiosk.idcard.parse_card): the number with its check digit, the name
beside its label, whichever way the OCR split or joined the lines."""

from __future__ import annotations

from kiosk.demo.generate import demo_id
from kiosk.idcard import parse_card

GOOD = demo_id(9)
BAD = GOOD[:-1] + ("0" if GOOD[-1] != "0" else "1")


def line(text: str, x: float, y: float, width: float = 100, score: float = 0.99) -> tuple[list[list[float]], str, float]:
    return [[x, y], [x + width, y], [x + width, y + 30], [x, y + 30]], text, score


def test_label_and_value_on_separate_lines() -> None:
    reading = parse_card([
        line("姓名", 50, 60), line("张三丰", 170, 58, score=0.95), line("性别", 50, 130), line("男", 170, 130),
        line("公民身份号码", 50, 450), line(GOOD, 250, 445, 400),
    ])
    assert (reading.number, reading.check_digit_ok, reading.name, reading.problem) == (GOOD, True, "张三丰", None)
    assert reading.confidence == 0.95


def test_label_joined_to_its_value_and_spaces_inside_the_number() -> None:
    spaced = f"{GOOD[:6]} {GOOD[6:14]} {GOOD[14:]}"
    reading = parse_card([line("姓名欧阳·娜娜", 50, 60), line("公民身份号码" + spaced, 50, 450, 600)])
    assert (reading.number, reading.name) == (GOOD, "欧阳·娜娜")


def test_a_number_failing_its_check_digit_is_reported_never_taken() -> None:
    reading = parse_card([line("姓名", 50, 60), line("李四", 170, 60), line(BAD, 250, 445, 400)])
    assert (reading.number, reading.check_digit_ok) == (BAD, False)
    assert "check digit" in (reading.problem or "")


def test_nothing_readable_and_a_name_that_is_another_label() -> None:
    assert "No ID card number" in (parse_card([]).problem or "")
    assert parse_card(None).confidence == 0.0
    reading = parse_card([line("姓名", 50, 60), line("性别", 170, 60), line(GOOD.lower(), 250, 445, 400)])
    assert (reading.number, reading.name) == (GOOD, None)
    assert "name could not be read" in (reading.problem or "")


def test_stray_marks_beside_a_name_are_no_part_of_it() -> None:
    assert parse_card([line("姓名陈一—", 50, 60), line(GOOD, 250, 445, 400)]).name == "陈一"
    assert parse_card([line("姓名", 50, 60), line(":欧阳•娜娜", 170, 60), line(GOOD, 250, 445, 400)]).name == "欧阳·娜娜"
