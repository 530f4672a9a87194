"""The gate's rules: who passes, who is held, who is refused, and why in plain words.

The rules are registered in `rules/` (one module each, in the order they judge); the policy's shape is built
from them (`shape.Policy`, one section per rule, read from `config/policy.toml` or from HQ's bundle), and
`judge()` applies them. The defaults are the field's and match `config/policy.toml`.
"""

from __future__ import annotations

from sync.core.policy.judge import judge
from sync.core.policy.rule import Rule, RuleSection
from sync.core.policy.rules.access import AccessRule
from sync.core.policy.rules.certificates import CertificateRules
from sync.core.policy.rules.colours import ColourRules
from sync.core.policy.rules.exit import ExitRule
from sync.core.policy.rules.freshness import FreshnessRule
from sync.core.policy.rules.negative_test import NegativeTestRule
from sync.core.policy.rules.temperature import TemperatureRule
from sync.core.policy.rules.travel import TravelRule
from sync.core.policy.shape import (
    Policy,
    PolicyError,
    PolicyReading,
    closest_policy_key,
    described,
    load_policy,
    read_policy,
)
from sync.core.policy.verdicts import (
    Case,
    Decision,
    Direction,
    Finding,
    Knowledge,
    PassInfo,
    Passage,
    Presentation,
    Verdict,
)

__all__ = [
    "AccessRule",
    "Case",
    "CertificateRules",
    "ColourRules",
    "Decision",
    "Direction",
    "ExitRule",
    "Finding",
    "FreshnessRule",
    "Knowledge",
    "NegativeTestRule",
    "PassInfo",
    "Passage",
    "Policy",
    "PolicyError",
    "PolicyReading",
    "Presentation",
    "Rule",
    "RuleSection",
    "TemperatureRule",
    "TravelRule",
    "Verdict",
    "closest_policy_key",
    "described",
    "judge",
    "load_policy",
    "read_policy",
]
