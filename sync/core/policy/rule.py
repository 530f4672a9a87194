"""What a policy rule is: its section of `policy.toml` (settings with defaults and a docstring each, declared
once as a pydantic model) and how it judges a case. Rules are registered in `sync/core/policy/rules/__init__.py`;
the policy's shape, its checks, the judging and every view of it (the gate's settings screen, HQ's `policy
show` and dashboard) are built from what is registered there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from sync.core.policy.verdicts import Case, Finding


class RuleSection(BaseModel):
    """One section of the policy: a rule's settings. A misspelt key is an error, never a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    def lines(self) -> list[tuple[str, str]]:
        """The section in a few words for a screen, as (label, value) pairs: by default one line naming every
        setting; a rule says it better by overriding this."""
        values = ", ".join(f"{name} {setting_text(getattr(self, name))}" for name in type(self).model_fields)
        return [(self.title(), values)]

    @classmethod
    def title(cls) -> str:
        """The section's name for people: its first docstring line, without the full stop."""
        return (cls.__doc__ or cls.__name__).strip().splitlines()[0].rstrip(".")


def setting_text(value: Any) -> str:
    """A setting's value as policy.toml writes it: 'true', '72', '37.3', 'refuse'."""
    return str(value).lower() if isinstance(value, bool) else f"{value:g}" if isinstance(value, float) else str(value)


Leaving = Literal["health", "access", "temperature"]


@dataclass(frozen=True)
class Rule:
    """A registered rule."""

    name: str
    """Its section in `policy.toml`."""
    section: type[RuleSection]
    findings: Callable[[Any, Case], list[Finding]]
    """What the rule finds in a case, given its section's settings (a rule with nothing to say finds nothing)."""
    when_leaving: Leaving | None
    """Which switch of the `[exit]` section (`check_health`, `check_access`, `check_temperature`) applies it to
    people leaving; None for a rule that applies both ways."""
