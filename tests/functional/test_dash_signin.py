"""Sign-in limits against a live HQ, on a clock the test moves (`LimitsClock`), so no answer depends on how
fast the machine runs: failed sign-ins hold that account alone, with waits that grow tier by tier; a browser
the account signed in from is never held by anyone else's failures; an address trying many accounts is held,
but not the staff behind it signing in from their own browsers. Every client here shares one address,
127.0.0.1, as an office behind one router does."""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.dash_testkit import PASSWORD, make_user, tokens
from tests.sync_testkit import LimitsClock, limits_clock, signing_key_file, start_hq  # noqa: F401 - fixtures

from sync.hq.db import audit_log

LIMITS = {
    "login_account_limit": "3/minute;6/hour",
    "login_device_limit": "3/minute",
    "login_address_limit": "8/minute",
}


def _sign_in(browser: httpx.Client, username: str, password: str) -> httpx.Response:
    form = tokens(browser.get("/login").text)
    return browser.post("/login", data={"username": username, "password": password, **form})


def _fail(browser: httpx.Client, username: str, times: int) -> list[int]:
    return [_sign_in(browser, username, f"wrong password {n}").status_code for n in range(times)]


def test_failed_sign_ins_hold_that_account_alone_with_growing_waits(
    tmp_path: Path, signing_key_file: Path, limits_clock: LimitsClock
) -> None:
    for running in start_hq(str(tmp_path / "hq.db"), signing_key_file, clock=limits_clock, **LIMITS):
        make_user(running.db, "vera")
        make_user(running.db, "ada")
        with httpx.Client(base_url=running.url) as guesser, httpx.Client(base_url=running.url) as colleague:
            first = _fail(guesser, "vera", 3)
            held = _sign_in(guesser, "Vera", PASSWORD)
            other_account = _sign_in(colleague, "ada", PASSWORD)
            limits_clock.advance(61)
            second = _fail(guesser, "vera", 3)
            held_longer = _sign_in(guesser, "vera", PASSWORD)
            limits_clock.advance(3600 - 61 + 1)  # a second past the Retry-After
            through = _sign_in(guesser, "vera", PASSWORD)

        assert first == second == [401, 401, 401]
        assert held.status_code == 429 and held.headers["Retry-After"] == "60"
        assert "Too many failed sign-ins for this account; try again in 60 s." in held.text
        assert other_account.status_code == 303, "another account from the same address is not held"
        assert held_longer.status_code == 429 and held_longer.headers["Retry-After"] == str(3600 - 61)
        assert "try again in 59 min" in held_longer.text
        assert through.status_code == 303
        with running.db.read() as conn:
            whys = [d for (d,) in conn.execute(audit_log.select().with_only_columns(audit_log.c.detail))]
        assert sum("too many failed sign-ins for this account" in why for why in whys) == 2


def test_a_browser_the_account_signed_in_from_is_never_held_by_someone_elses_failures(
    tmp_path: Path, signing_key_file: Path, limits_clock: LimitsClock
) -> None:
    for running in start_hq(str(tmp_path / "hq.db"), signing_key_file, clock=limits_clock, **LIMITS):
        make_user(running.db, "vera")
        with httpx.Client(base_url=running.url) as own, httpx.Client(base_url=running.url) as guesser:
            assert _sign_in(own, "vera", PASSWORD).status_code == 303
            guessed = _fail(guesser, "vera", 3)
            limits_clock.advance(61)
            guessed += _fail(guesser, "vera", 3)
            guesser_held = _sign_in(guesser, "vera", PASSWORD)
            own_again = _sign_in(own, "vera", PASSWORD)
            own_typos = _fail(own, "vera", 3)
            own_held = _sign_in(own, "vera", PASSWORD)
            limits_clock.advance(61)
            own_through = _sign_in(own, "vera", PASSWORD)

        assert guessed == [401] * 6 and guesser_held.status_code == 429
        assert own_again.status_code == 303, "the account's own browser is not held by the guesser's failures"
        assert own_typos == [401, 401, 401]
        assert own_held.status_code == 429 and "for this account from this browser; try again in 60 s" in own_held.text
        assert own_through.status_code == 303, "its own typos hold it a minute, not the hour the guesser earned"


def test_an_address_trying_many_accounts_is_held_but_not_staff_in_their_own_browsers(
    tmp_path: Path, signing_key_file: Path, limits_clock: LimitsClock
) -> None:
    for running in start_hq(str(tmp_path / "hq.db"), signing_key_file, clock=limits_clock, **LIMITS):
        make_user(running.db, "ada")
        make_user(running.db, "newcomer")
        with (
            httpx.Client(base_url=running.url) as ada,
            httpx.Client(base_url=running.url) as sprayer,
            httpx.Client(base_url=running.url) as newcomer,
        ):
            assert _sign_in(ada, "ada", PASSWORD).status_code == 303
            sprayed = [_sign_in(sprayer, f"user{n}", "Summer2024!").status_code for n in range(8)]
            sprayer_held = _sign_in(sprayer, "user9", "Summer2024!")
            ada_again = _sign_in(ada, "ada", PASSWORD)
            newcomer_held = _sign_in(newcomer, "newcomer", PASSWORD)
            limits_clock.advance(61)
            newcomer_through = _sign_in(newcomer, "newcomer", PASSWORD)

        assert sprayed == [401] * 8
        assert sprayer_held.status_code == 429 and "from this address; try again in 60 s" in sprayer_held.text
        assert ada_again.status_code == 303, "staff signing in from their own browser are not held by the address"
        assert newcomer_held.status_code == 429, "a browser no account knows waits out the address's hold"
        assert newcomer_through.status_code == 303
