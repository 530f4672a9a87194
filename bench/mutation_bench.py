"""Mutation testing of the core: how many small deliberate breaks the tests catch, per module.

mutmut (3.x) makes each mutant (a `<` turned `<=`, a constant changed, a call's argument dropped...) and runs,
for each one, only the tests that reach the mutated function (mutmut records that in a first pass). A mutant
the tests still pass on "survived": either a test is missing, or the change makes no difference a caller can
see (an "equivalent" mutant). Equivalent ones are listed, each with why, in `bench/mutation_equivalents.toml`;
this script reads it and counts them apart. Target: at least 90% of the other mutants killed in every module.

Each group below is mutated in a scratch copy of the repository (bench/out/mutation/GROUP/, so the work tree
is never touched) against its own fast tests, PostgreSQL variants and slow tests left out; the groups run one
after another. It is slow (minutes per group), so it runs outside CI:

    .venv/bin/python bench/mutation_bench.py                 # every group, then the table
    .venv/bin/python bench/mutation_bench.py chain store     # some groups
    .venv/bin/python bench/mutation_bench.py --report-only   # the table from the last runs, nothing re-run
    .venv/bin/python bench/mutation_bench.py --jobs 2        # mutants tested in parallel (default 1)
    .venv/bin/python bench/mutation_bench.py codes --again   # only the last run's survivors, against the
                                                             # tests as they are now (quick, while writing them)

It prints, per module: mutants, killed, survived, equivalent and the score (killed / (mutants - equivalent)),
then every surviving mutant as a diff with the entry that would mark it equivalent. Exit status 1 when a
module is under the target (or an equivalence entry matches no mutant any more: its code changed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out" / "mutation"
EQUIVALENTS = REPO / "bench" / "mutation_equivalents.toml"
MUTMUT = Path(sys.executable).with_name("mutmut")
KEPT = "results-before-again.json"
TARGET = 0.90
COPIED = ("kiosk", "sync", "tests", "config")
PYTEST_ARGS = ["-p", "no:cacheprovider", "-m", "not postgres and not slow", "--timeout", "120"]
"""Every mutant's tests: no PostgreSQL variant (the SQLite one runs the same code), no slow durability run."""


@dataclass(frozen=True)
class Group:
    """Modules mutated together, and the fast tests that exercise them."""

    modules: tuple[str, ...]
    tests: tuple[str, ...]


GROUPS: dict[str, Group] = {
    "codes": Group(
        ("sync/core/codes/*.py",),
        (
            "tests/unit/test_pgc.py",
            "tests/unit/test_hcert.py",
            "tests/unit/test_shc.py",
            "tests/unit/test_trust_documents.py",
            "tests/unit/test_certificate_policy.py",
            "tests/unit/test_codes_fuzz.py",
            "tests/unit/test_standards_fuzz.py",
            "tests/unit/test_pgc_damage.py",
            "tests/unit/test_hcert_damage.py",
            "tests/unit/test_shc_damage.py",
            "tests/unit/test_trust_damage.py",
            "tests/unit/test_codes_basics.py",
            "tests/unit/test_codes_edges.py",
            "tests/unit/test_stale_keys.py",
        ),
    ),
    "policy": Group(
        ("sync/core/policy/*.py", "sync/core/policy/rules/*.py"),
        (
            "tests/unit/test_policy.py",
            "tests/unit/test_certificate_policy.py",
            "tests/unit/test_gate_manual.py",
            "tests/unit/test_stale_keys.py",
            "tests/unit/test_policy_edges.py",
        ),
    ),
    "chain": Group(
        ("sync/core/chain.py",),
        (
            "tests/unit/test_chain.py",
            "tests/unit/test_store.py",
            "tests/unit/test_sync_ingest.py",
            "tests/unit/test_sync_protocol.py",
        ),
    ),
    "store": Group(
        ("kiosk/store.py",),
        (
            "tests/unit/test_store.py",
            "tests/unit/test_gate_manual.py",
            "tests/unit/test_operators_shift.py",
            "tests/unit/test_sync_state.py",
            "tests/unit/test_chain.py",
            "tests/unit/test_store_details.py",
            "tests/functional/test_gate_retention.py",
            "tests/functional/test_verify_cli.py",
        ),
    ),
    "identity": Group(
        ("sync/core/identity.py",),
        (
            "tests/unit/test_identity.py",
            "tests/unit/test_pgc.py",
            "tests/unit/test_gate_manual.py",
            "tests/unit/test_keys_and_bundles_exactly.py",
        ),
    ),
    "bundle": Group(
        ("sync/core/bundle.py",),
        (
            "tests/unit/test_sync_bundle_signing.py",
            "tests/unit/test_sync_state.py",
            "tests/unit/test_keys_and_bundles_exactly.py",
        ),
    ),
    "ingest": Group(
        ("sync/hq/ingest.py",),
        (
            "tests/unit/test_sync_ingest.py",
            "tests/unit/test_chain.py",
            "tests/unit/test_ingest_details.py",
            "tests/unit/test_dash_store.py",
            "tests/functional/test_sync_upload.py",
        ),
    ),
    "auth": Group(
        ("sync/hq/web/auth.py", "sync/hq/web/core.py", "sync/hq/staff.py"),
        (
            "tests/unit/test_dash_store.py",
            "tests/unit/test_staff_accounts.py",
            "tests/functional/test_dash_http.py",
            "tests/functional/test_dash_csrf.py",
            "tests/functional/test_dash_sessions.py",
            "tests/functional/test_dash_cli.py",
            "tests/functional/test_dash_admin.py",
        ),
    ),
}

KILLED = {1: "killed", 3: "killed", 36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout",
          -11: "crashed", -9: "crashed"}
"""mutmut's exit codes that mean the tests caught the mutant (a test failed, hung, or the run crashed)."""
SURVIVED = {0: "survived", 5: "no tests", 33: "no tests"}
"""Exit codes that mean nothing caught it (including a function no selected test reaches)."""


@dataclass(frozen=True)
class Mutant:
    name: str
    module: str
    function: str
    status: str
    diff: str

    @property
    def change(self) -> tuple[str, str]:
        """The lines the mutant removed and added, stripped: how an equivalence entry names it."""
        removed = [line[1:].strip() for line in self.diff.splitlines() if line.startswith("-") and not line.startswith("---")]
        added = [line[1:].strip() for line in self.diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
        return "\n".join(removed), "\n".join(added)


@dataclass
class Tally:
    mutants: int = 0
    killed: int = 0
    survived: int = 0
    equivalent: int = 0
    other: Counter[str] = field(default_factory=Counter)

    @property
    def score(self) -> float:
        judged = self.mutants - self.equivalent
        return self.killed / judged if judged else 1.0


@dataclass(frozen=True)
class Equivalent:
    module: str
    function: str
    removed: str
    added: str
    reason: str

    def matches(self, mutant: Mutant) -> bool:
        return (mutant.module, mutant.function, *mutant.change) == (self.module, self.function, self.removed, self.added)


def load_equivalents() -> list[Equivalent]:
    if not EQUIVALENTS.exists():
        return []
    entries = tomllib.loads(EQUIVALENTS.read_text())["equivalent"]
    return [Equivalent(e["module"], e["function"], e["removed"].strip(), e["added"].strip(), e["reason"]) for e in entries]


def function_of(mutant_name: str) -> str:
    """'kiosk.store.xǁGateStoreǁrecord__mutmut_3' -> 'GateStore.record'; 'sync.core.chain.x_entry_hash__mutmut_1'
    -> 'entry_hash'."""
    mangled = mutant_name.rpartition(".")[2].rpartition("__mutmut_")[0]
    if mangled.startswith("xǁ"):
        return ".".join(mangled[2:].split("ǁ"))
    return mangled.removeprefix("x_")


def scratch_copy(name: str, group: Group, *, fresh: bool = True) -> Path:
    """A copy of the code and tests, with mutmut configured for this group in its pyproject.toml: a new one,
    or (not `fresh`) the last run's with the files that changed since copied over it (mutmut then re-mutates
    a changed module and collects what new tests reach)."""
    root = OUT / name
    if fresh:
        shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.db", "*.db-*", ".hypothesis")
    for folder in COPIED:
        shutil.copytree(REPO / folder, root / folder, ignore=ignore, dirs_exist_ok=True)
    pyproject = (REPO / "pyproject.toml").read_text()
    settings = {
        "source_paths": ["kiosk", "sync"],
        "only_mutate": list(group.modules),
        "also_copy": ["config"],
        "pytest_add_cli_args": PYTEST_ARGS,
        "pytest_add_cli_args_test_selection": list(group.tests),
    }
    table = "\n[tool.mutmut]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items())
    (root / "pyproject.toml").write_text(pyproject + table)
    return root


def exit_codes(root: Path) -> dict[str, int | None]:
    """Each mutant's result in a scratch copy: mutmut's own, or for one it did not check in the last run (a
    run of survivors only, after which mutmut forgets the others if the test selection changed) the result
    kept from the run before."""
    kept_file = root / KEPT
    codes: dict[str, int | None] = json.loads(kept_file.read_text()) if kept_file.exists() else {}
    for meta in sorted((root / "mutants").rglob("*.py.meta")):
        for key, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if code is not None or key not in codes:
                codes[key] = code
    return codes


def function_hashes(root: Path) -> dict[str, str]:
    """'kiosk.store.xǁGateStoreǁrecord' -> the hash mutmut keeps of that function's source."""
    hashes = {}
    for meta in (root / "mutants").rglob("*.py.meta"):
        module = str(meta.relative_to(root / "mutants"))[: -len(".py.meta")].replace("/", ".")
        for function, digest in json.loads(meta.read_text())["hash_by_function_name"].items():
            hashes[f"{module}.{function}"] = digest
    return hashes


def refresh_sources(root: Path) -> None:
    """Drop the scratch copy's mutated and copied sources (mutmut keeps each copy it made, however the source
    changed since), keeping its results (*.meta): the next run copies and mutates the sources afresh."""
    for package in ("kiosk", "sync"):
        for path in (root / "mutants" / package).rglob("*"):
            if path.is_file() and not path.name.endswith(".meta"):
                path.unlink()


def mutmut_run(name: str, root: Path, jobs: int, mutants: list[str]) -> None:
    log = root / "mutmut.log"
    env = {k: v for k, v in os.environ.items() if k not in ("POCKET_HQ_TEST_POSTGRES", "CI")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    with log.open("a") as out:
        done = subprocess.run(
            [str(MUTMUT), "run", "--max-children", str(jobs), *mutants], cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"mutmut failed on group {name} (exit {done.returncode}); the end of its log:\n{tail}")


def run_group(name: str, group: Group, jobs: int, *, again: bool = False) -> None:
    """Mutate the group's modules and test every mutant; or (`again`) test only the last run's survivors, and
    every mutant of a function whose source changed since, against the code and tests as they are now."""
    root = OUT / name
    survivors = [m.name for m in read_group(name) if m.status in SURVIVED.values()] if again else []
    if again and not survivors:
        print(f"== {name}: no survivors from a last run to test again", flush=True)
        return
    before = function_hashes(root) if again else {}
    if again:
        (root / KEPT).write_text(json.dumps(exit_codes(root)))
        refresh_sources(root)
    scratch_copy(name, group, fresh=not again)
    (root / "mutmut.log").unlink(missing_ok=True)
    what = f"{len(survivors)} surviving mutants of" if again else "mutating"
    print(f"== {name}: {what} {', '.join(group.modules)} against {len(group.tests)} test files "
          f"(log: {root / 'mutmut.log'})", flush=True)  # fmt: skip
    mutmut_run(name, root, jobs, survivors)
    if again:
        changed = [function for function, digest in function_hashes(root).items() if before.get(function) != digest]
        kept = json.loads((root / KEPT).read_text())
        stale = [key for key in kept if key.rpartition("__mutmut_")[0] in changed]
        (root / KEPT).write_text(json.dumps({k: v for k, v in kept.items() if k not in stale}))
        if changed:
            print(f"   and every mutant of {len(changed)} changed functions", flush=True)
            mutmut_run(name, root, jobs, [f"{function}__mutmut_*" for function in changed])


def read_group(name: str) -> list[Mutant]:
    """Every mutant of a group's last run, with its status and (for the ones that lived) its diff."""
    root = OUT / name
    if not (root / "mutants").exists():
        return []
    from mutmut.mutation.diff_apply import get_diff_for_mutant  # reads the scratch copy's mutants/ folder

    mutants: list[Mutant] = []
    codes = exit_codes(root)
    here = Path.cwd()
    os.chdir(root)
    try:
        for meta in sorted(Path("mutants").rglob("*.py.meta")):
            module = str(meta.relative_to("mutants"))[: -len(".meta")]
            for key in json.loads(meta.read_text())["exit_code_by_key"]:
                code = codes[key]
                status = KILLED.get(code) or SURVIVED.get(code) or ("not checked" if code is None else f"exit {code}")
                diff = get_diff_for_mutant(key, path=module) if code in SURVIVED else ""
                mutants.append(Mutant(key, module, function_of(key), status, diff))
    finally:
        os.chdir(here)
    return mutants


def report(names: list[str]) -> int:
    equivalents = load_equivalents()
    used: set[Equivalent] = set()
    tallies: dict[str, Tally] = {}
    survivors: list[Mutant] = []
    for name in names:
        for mutant in read_group(name):
            tally = tallies.setdefault(mutant.module, Tally())
            tally.mutants += 1
            if mutant.status in KILLED.values():
                tally.killed += 1
            elif mutant.status in SURVIVED.values():
                marked = next((e for e in equivalents if e.matches(mutant)), None)
                if marked is not None:
                    used.add(marked)
                    tally.equivalent += 1
                else:
                    tally.survived += 1
                    survivors.append(mutant)
            else:
                tally.other[mutant.status] += 1

    failing = 0
    if survivors:
        print(f"\n{len(survivors)} surviving mutants (to mark one equivalent, add its entry, with the reason, to "
              f"{EQUIVALENTS.relative_to(REPO)}):")
        for mutant in survivors:
            removed, added = mutant.change
            print(f"\n# {mutant.name} ({mutant.status})\n{mutant.diff}")
            print(f"[[equivalent]]\nmodule = {json.dumps(mutant.module)}\nfunction = {json.dumps(mutant.function)}")
            print(f"removed = '''{removed}'''\nadded = '''{added}'''\nreason = \"\"")
    stale = [e for e in equivalents if e not in used and any(e.module in t for t in tallies)]
    for entry in stale:
        print(f"\nstale equivalence entry (no surviving mutant matches it): {entry.module} {entry.function}: {entry.removed!r}")
        failing += 1

    print(f"\n{'module':34} {'mutants':>7} {'killed':>7} {'survived':>8} {'equiv.':>7} {'score':>7}")
    for module, t in sorted(tallies.items()):
        other = f"  ({', '.join(f'{n} {s}' for s, n in t.other.items())})" if t.other else ""
        flag = "" if t.score >= TARGET else "  < target"
        failing += t.score < TARGET
        print(f"{module:34} {t.mutants:7} {t.killed:7} {t.survived:8} {t.equivalent:7} {t.score:7.1%}{flag}{other}")
    total = Tally(*(sum(getattr(t, k) for t in tallies.values()) for k in ("mutants", "killed", "survived", "equivalent")))
    print(f"{'all':34} {total.mutants:7} {total.killed:7} {total.survived:8} {total.equivalent:7} {total.score:7.1%}")
    return 1 if failing else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="*", help=f"groups to run (default: all): {', '.join(GROUPS)}")
    parser.add_argument("--jobs", type=int, default=1, help="mutants tested at once (the machine is shared)")
    parser.add_argument("--report-only", action="store_true", help="print the table of the last runs; run nothing")
    parser.add_argument("--again", action="store_true", help="test only the last run's survivors, with the tests as they are now")
    args = parser.parse_args()
    names = args.groups or list(GROUPS)
    unknown = [name for name in names if name not in GROUPS]
    if unknown:
        parser.error(f"no such group: {', '.join(unknown)} (groups: {', '.join(GROUPS)})")
    if not args.report_only:
        for name in names:
            run_group(name, GROUPS[name], args.jobs, again=args.again)
    return report(names)


if __name__ == "__main__":
    sys.exit(main())
