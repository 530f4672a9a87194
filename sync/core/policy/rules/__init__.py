"""The rules a gate applies, registered here: each is one module (its section of `policy.toml`, declared once
with a default and a docstring per setting, and how it judges), listed below in the order it judges. A new rule
is a new module in this folder and its line here; its defaults go in `config/policy.toml`.
"""

from __future__ import annotations

from sync.core.policy.rule import Rule
from sync.core.policy.rules import (
    access,
    certificates,
    colours,
    companions,
    exit,
    freshness,
    household,
    negative_test,
    presence,
    temperature,
    travel,
)

RULES: tuple[Rule, ...] = (
    freshness.RULE,
    colours.RULE,
    certificates.RULE,
    negative_test.RULE,
    travel.RULE,
    temperature.RULE,
    access.RULE,
    presence.RULE,
    household.RULE,
    companions.RULE,
    exit.RULE,
)
