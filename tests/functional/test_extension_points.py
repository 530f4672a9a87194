"""A new code format and a new policy rule take only the files README's architecture section says they take.

Each test copies the programs to a temporary folder, adds a toy the way README says (a module and its line of
registration; for a rule, its defaults in config/policy.toml too), checks that only the files README names
changed, and runs both real programs from the copy: the gate reads the toy format's codes and trust files, HQ
publishes them; the policy file, the judging, the gate's settings lines and HQ's `policy set` know the toy rule.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path

from tests.program_copy import REPO, changed_files, copy_programs, run_python

KIOSK = "from kiosk.cli import main; main()"
HQ = "from sync.hq.cli import main; main()"

TOY_FORMAT = '''"""TOY1: a toy code format, 'TOY1:<key id>:<name>:<colour>:<HMAC-SHA256>', whose keys come in a JSON trust
document {"toy_keys": {"<key id>": "<hex secret>"}}."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any, Self

from sync.core.codes.base import CodeError, Colour, Credential, Reason
from sync.core.codes.trust import DocumentPart, TrustList, TrustParser


class ToyKeys:
    def __init__(self) -> None:
        self.secrets: dict[str, bytes] = {}

    def __len__(self) -> int:
        return len(self.secrets)

    def merge(self, other: Self) -> None:
        self.secrets.update(other.secrets)

    def storage_problem(self) -> str | None:
        return None


def _read(document: dict[str, Any], part: DocumentPart) -> bool:
    for kid, secret in document["toy_keys"].items():
        part.section(ToyKeys).secrets[kid] = bytes.fromhex(secret)
        part.summary.add("toy key")
    return True


class TOY1:
    name = "TOY1"
    prefixes = ("TOY1:",)
    trust_parsers = (TrustParser("json", "toy_keys", "toy-keys", "a toy key list", _read),)

    def verify(self, text: str, trust: TrustList, now: datetime) -> Credential:
        fields = text[len("TOY1:"):].split(":")
        if len(fields) != 4:
            raise CodeError.malformed("TOY1 decoding", "not four fields")
        kid, name, colour, mac = fields
        secret = trust.section(ToyKeys).secrets.get(kid)
        if secret is None:
            raise CodeError(Reason.UNKNOWN_ISSUER, f"toy key {kid}")
        expected = hmac.new(secret, f"{kid}:{name}:{colour}".encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, mac):
            raise CodeError(Reason.BAD_SIGNATURE)
        return Credential(format=self.name, issuer="toy issuer", kid=kid, subject=None, name=name,
                          colour=Colour(colour), issued_at=now, expires_at=None)
'''

TOY_RULE = '''"""`[curfew]`: a toy rule: people coming in at night are held."""

from __future__ import annotations

from pydantic import Field

from sync.core.policy.rule import Rule, RuleSection
from sync.core.policy.verdicts import Case, Decision, Finding


class CurfewRule(RuleSection):
    """Who may come in at night."""

    starts_at_hour: int = Field(23, ge=0, le=23)
    """From this hour (UTC) until five in the morning, people coming in are stopped."""
    decision: Decision = Decision.HOLD
    """What coming in at night leads to."""


def curfew_findings(rule: CurfewRule, case: Case) -> list[Finding]:
    if case.now.hour >= rule.starts_at_hour or case.now.hour < 5:
        return [Finding(rule.decision, f"coming in after {rule.starts_at_hour}:00")]
    return []


RULE = Rule("curfew", CurfewRule, curfew_findings, when_leaving="access")
'''


def readme_says(change: str) -> set[str]:
    """The paths README's paragraph on `change` ('A new code format') names, in backticks."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    paragraph = readme.split(f"**{change}**", 1)[1].split("\n\n", 1)[0]
    return {path for path in re.findall(r"`([^`\s]+)`", paragraph) if "/" in path}


def only_where_readme_says(changed: set[str], change: str) -> None:
    said = readme_says(change)
    folders = {path for path in said if path.endswith("/")}
    for path in changed:
        assert path in said or any(path.startswith(folder) and "/" not in path[len(folder):] for folder in folders), (
            f"{change} touched {path}, which README does not name"
        )


def _insert_after(path: Path, anchor: str, text: str) -> None:
    content = path.read_text()
    assert content.count(anchor) == 1, anchor
    path.write_text(content.replace(anchor, anchor + text))


def _toy_code(secret: bytes, kid: str, name: str, colour: str) -> str:
    mac = hmac.new(secret, f"{kid}:{name}:{colour}".encode(), hashlib.sha256).hexdigest()
    return f"TOY1:{kid}:{name}:{colour}:{mac}"


def test_a_toy_code_format_is_one_module_and_a_line_of_registration(tmp_path: Path) -> None:
    copy = copy_programs(tmp_path / "programs")
    (copy / "sync/core/codes/toy.py").write_text(TOY_FORMAT)
    registry = copy / "sync/core/codes/__init__.py"
    _insert_after(registry, "register(SHC())  # SMART Health Cards\n", "register(TOY1())  # a toy\n")
    _insert_after(registry, "from sync.core.codes.trust import TrustList\n", "from sync.core.codes.toy import TOY1\n")
    only_where_readme_says(changed_files(copy), "A new code format")
    secret = b"toy secret!"
    keys = tmp_path / "toy-keys.json"
    keys.write_text(json.dumps({"toy_keys": {"k1": secret.hex()}}))
    genuine = _toy_code(secret, "k1", "Z**", "green")
    forged = _toy_code(b"another secret", "k1", "Z**", "green")
    config = tmp_path / "kiosk.toml"
    config.write_text(f'gate_id = "north-gate"\ndatabase = "{tmp_path / "gate.db"}"\n')

    checked = run_python(copy, KIOSK, "check", genuine, forged, "--trust", str(keys), "--config", str(config), "--json")
    imported = run_python(copy, KIOSK, "trust", "import", str(keys), "--config", str(config))
    published = run_python(copy, HQ, "trust", "add", str(keys), "--db", str(tmp_path / "hq.db"))

    assert checked.returncode == 0, checked.stderr
    read, refused = (json.loads(line) for line in checked.stdout.splitlines())
    assert (read["code_type"], read["credential"]["format"], read["credential"]["issuer"]) == ("TOY1", "TOY1", "toy issuer")
    assert read["signature_valid"] is True and read["colour"] == "green"
    assert (refused["code_type"], refused["error"], refused["verdict"]) == ("invalid", "bad_signature", "refuse")
    assert imported.returncode == 0 and "imported toy-keys.json: 1 toy key" in imported.stdout, imported.stderr
    assert published.returncode == 0 and "trusted trust-file toy-keys.json (1 toy key)" in published.stdout, published.stderr


def test_a_toy_policy_rule_is_one_module_a_line_of_registration_and_its_defaults(tmp_path: Path) -> None:
    copy = copy_programs(tmp_path / "programs")
    (copy / "sync/core/policy/rules/curfew.py").write_text(TOY_RULE)
    registry = copy / "sync/core/policy/rules/__init__.py"
    _insert_after(registry, "    colours,\n", "    curfew,\n")
    _insert_after(registry, "    access.RULE,\n", "    curfew.RULE,\n")
    _insert_after(copy / "config/policy.toml", 'nothing_counts = "refuse" # a certificate none of whose entries counts; a positive test is always refused\n',
                  '\n[curfew]                  # people coming in at night\nstarts_at_hour = 22\ndecision = "hold"\n')
    only_where_readme_says(changed_files(copy), "A new policy rule")
    probe = """
import json, tomllib
from datetime import UTC, datetime
from pathlib import Path
from sync.core.codes import Colour
from sync.core.policy import Direction, Knowledge, Presentation, judge, load_policy, read_policy
policy = load_policy(Path("config/policy.toml"))
who = Presentation(kind="code", subject=None, name="Z**", colour=Colour.GREEN)
def verdict(hour, direction):
    moment = datetime(2026, 11, 23, hour, 30, tzinfo=UTC)
    found = judge(policy, who, Knowledge(resident=True), temperature=None, direction=direction, now=moment)
    return [found.decision.value, list(found.reasons)]
print(json.dumps({
    "night": verdict(22, Direction.IN), "day": verdict(12, Direction.IN), "leaving": verdict(22, Direction.OUT),
    "lines": policy.lines(),
    "ignored": read_policy(tomllib.loads(Path("config/policy.toml").read_text())).ignored,
}))
"""
    result = run_python(copy, probe)
    published = run_python(copy, HQ, "policy", "set", "config/policy.toml", "--db", str(tmp_path / "hq.db"))
    shown = run_python(copy, HQ, "policy", "show", "--db", str(tmp_path / "hq.db"))

    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["night"] == ["hold", ["coming in after 22:00"]]
    assert found["day"] == ["pass", ["green code", "resident"]]
    assert found["leaving"][0] == "pass", "[exit] check_access is off: the curfew does not keep anyone in"
    assert ["Who may come in at night", "starts_at_hour 22, decision hold"] in found["lines"]
    assert found["ignored"] == []
    assert published.returncode == 0 and "policy published" in published.stdout, published.stderr
    assert "warning" not in published.stderr, "HQ knows the rule: nothing to confirm"
    assert json.loads(shown.stdout)["curfew"] == {"starts_at_hour": 22, "decision": "hold"}
