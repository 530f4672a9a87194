"""Sign-in limits: growing waits after failed sign-ins, counted per account, that never keep a correct password
out for long, and a guard against one address trying many accounts (password spraying).

Who an attempt counts against:
- A browser the account has signed in from carries a device cookie for it (signed by HQ: OWASP's defence
  against lock-out by guessing), and its failures count against that browser alone (`login_device_limit`).
  Nobody elsewhere can make the account's own user wait; a user who mistypes waits at most the longest tier.
- Any other attempt counts against the account, from whatever address (`login_account_limit`: a guesser spread
  over many addresses still gets only a few tries per window), and against its address
  (`login_address_limit`). A full address only holds attempts without a device cookie, so staff behind one
  office address keep signing in from their own browsers while someone there sprays passwords.
Each limit is tiers in the `limits` notation ('5/minute;10/10 minutes;20/hour'): as each tier fills, the wait
grows (a minute, then ten, then an hour). Limits are checked before the password (a refused attempt reveals
nothing about it) and counted only when the password was wrong. Counts live where HQ's rate limits count
(`sync.hq.rate_store`): shared by every HQ process of a city, so that a guesser gains nothing from being answered
by another process.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from limits import parse_many
from limits.strategies import MovingWindowRateLimiter

DEVICE_DAYS = 90
"""How long a browser stays known for an account after it signed in there."""
_WHO = {"device": "for this account from this browser", "account": "for this account", "address": "from this address"}


@dataclass(frozen=True)
class Wait:
    """An attempt that must wait: how long, and whose failures it waits for (in words)."""

    seconds: int
    who: str

    def phrase(self) -> str:
        """'45 s', '10 min', '1 h'."""
        if self.seconds < 90:
            return f"{self.seconds} s"
        if self.seconds < 90 * 60:
            return f"{math.ceil(self.seconds / 60)} min"
        return f"{math.ceil(self.seconds / 3600)} h"


Keys = list[tuple[str, str]]
"""(limit name, counter key) pairs an attempt counts against."""


class SignInLimits:
    def __init__(
        self, *, account: str, device: str, address: str, device_key: bytes, clock: Callable[[], float],
        limiter: MovingWindowRateLimiter,
    ) -> None:
        self._tiers = {"account": parse_many(account), "device": parse_many(device), "address": parse_many(address)}
        self._limiter = limiter
        self._device_key = device_key
        self._clock = clock

    def keys(self, username: str, address: str, device_cookie: str | None) -> Keys:
        """What an attempt to sign in as `username` counts against (see the module docstring)."""
        account = username.lower()
        device = self._device(account, device_cookie)
        if device is not None:
            return [("device", f"device:{account}:{device}")]
        return [("account", f"account:{account}"), ("address", f"address:{address}")]

    def wait(self, keys: Keys) -> Wait | None:
        """None when the attempt may go ahead; else the longest wait among the limits it would exceed."""
        waits = [
            (self._limiter.get_window_stats(item, key).reset_time, name)
            for name, key in keys
            for item in self._tiers[name]
            if not self._limiter.test(item, key)
        ]
        if not waits:
            return None
        reset, name = max(waits)
        return Wait(max(1, math.ceil(reset - self._clock())), _WHO[name])

    def failed(self, keys: Keys) -> None:
        """Count a wrong password against everything the attempt counts against."""
        for name, key in keys:
            for item in self._tiers[name]:
                self._limiter.hit(item, key)

    def device_cookie(self, username: str) -> str:
        """A new device cookie value for a browser that just signed in as `username`."""
        expires = int(self._clock()) + DEVICE_DAYS * 86400
        device = secrets.token_urlsafe(16)
        return f"{expires}.{device}.{self._mac(username.lower(), expires, device)}"

    def _device(self, account: str, cookie: str | None) -> str | None:
        """The device id a cookie names, when it is HQ's, for this account, and not expired."""
        expires, _, rest = (cookie or "").partition(".")
        device, _, mac = rest.partition(".")
        if not (expires.isdigit() and device and mac) or int(expires) < self._clock():
            return None
        expected = self._mac(account, int(expires), device)
        return device if hmac.compare_digest(mac.encode("utf-8", "replace"), expected.encode()) else None

    def _mac(self, account: str, expires: int, device: str) -> str:
        message = f"{account}\n{expires}\n{device}".encode("utf-8", "replace")
        return hmac.new(self._device_key, message, hashlib.sha256).hexdigest()
