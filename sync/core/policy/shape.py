"""The policy's shape, declared once: one section per registered rule (`sync.core.policy.rules`), each a pydantic
model with a default and a docstring per setting. Reading a policy file, reading HQ's published policy, naming
what a newer version's policy adds, and describing the policy for people are all derived from it.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from sync.core.policy.rule import RuleSection, setting_text
from sync.core.policy.rules import RULES

R = TypeVar("R", bound=RuleSection)


class PolicyError(Exception):
    """The policy file is unreadable or invalid; the message says where."""


class _Sections(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def section(self, kind: type[R]) -> R:
        """The section of one rule, by its settings class (typed, unlike attribute access)."""
        for rule in RULES:
            if rule.section is kind:
                return getattr(self, rule.name)  # type: ignore[no-any-return]
        raise KeyError(f"{kind.__name__} is not a registered rule")

    def lines(self) -> list[tuple[str, str]]:
        """The whole policy in a few words per rule, for a screen: (label, value) pairs, rule by rule."""
        return [line for rule in RULES for line in getattr(self, rule.name).lines()]


Policy = create_model(
    "Policy",
    __base__=_Sections,
    __module__=__name__,
    __doc__="All rules in force at a gate (`config/policy.toml`): one section per registered rule.",
    **{rule.name: (rule.section, rule.section()) for rule in RULES},  # type: ignore[call-overload]
)


def load_policy(path: Path) -> Policy:
    """Read a policy file. Unknown keys are errors: a misspelt rule must not silently fall back to a default.
    (HQ's policy is read with `read_policy`, which leaves newer sections out instead.)"""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"policy file {path} is not valid TOML: {exc}") from exc
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise PolicyError(f"policy file {path} is invalid: {problems}") from exc


@dataclass(frozen=True)
class PolicyReading:
    """A policy as this version of the software reads it."""

    policy: Policy
    ignored: tuple[str, ...]
    """The sections and keys it does not know ('quarantine', 'temperature.retake_minutes'), sorted."""


def read_policy(data: Mapping[str, Any]) -> PolicyReading:
    """A policy published by HQ, as this version reads it. Every section and key it knows is checked as
    strictly as a policy file (a bad value is a PolicyError: the bundle carrying it is refused, as ever), while
    sections and keys it does not know, which a newer HQ publishes for newer gates, are left out and named: an
    older gate keeps taking its lists and applies the rules it has (the policy is kept whole where it is
    stored, so the gate uses them once it is updated)."""
    known, ignored = _known_part(data, Policy, "")
    try:
        policy = Policy.model_validate(known)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise PolicyError(f"invalid: {problems}") from exc
    return PolicyReading(policy, tuple(sorted(ignored)))


def _known_part(data: Mapping[str, Any], model: type[BaseModel], prefix: str) -> tuple[dict[str, Any], list[str]]:
    known: dict[str, Any] = {}
    ignored: list[str] = []
    for key, value in data.items():
        field = model.model_fields.get(key)
        if field is None:
            ignored.append(f"{prefix}{key}")
        elif _is_section(field.annotation) and isinstance(value, Mapping):
            known[key], deeper = _known_part(value, field.annotation, f"{prefix}{key}.")
            ignored += deeper
        else:
            known[key] = value
    return known, ignored


def _is_section(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, RuleSection)


def closest_policy_key(name: str) -> str | None:
    """The known key a dotted name not known here is probably a misspelling of ('temprature' -> 'temperature',
    'temperature.refuse_above' -> 'temperature.refuse_at_or_above'), or None."""
    *sections, last = name.split(".")
    model: type[BaseModel] = Policy
    for section in sections:
        annotation = model.model_fields[section].annotation
        assert _is_section(annotation)
        model = annotation
    match = difflib.get_close_matches(last, list(model.model_fields), n=1, cutoff=0.75)
    return ".".join([*sections, match[0]]) if match else None


def described(policy: Policy) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Every section with every setting: (section, [(key, value, what it does)]), for a page that shows the
    policy whole (HQ's dashboard). The words are the settings' own docstrings."""
    return [
        (
            rule.name,
            [
                (key, setting_text(getattr(section, key)), field.description or "")
                for key, field in rule.section.model_fields.items()
            ],
        )
        for rule in RULES
        for section in (getattr(policy, rule.name),)
    ]
