"""Check that the lock files still match pyproject.toml: every dependency is pinned to a version its
specifier allows, and every pinned package carries hashes. Exit 1 with one line per problem.

Regenerate the lock files with `scripts/lock` after changing dependencies.
"""
from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def pins(lock: Path) -> tuple[dict[str, str], list[str]]:
    """Pinned versions by canonical name, and the names of packages pinned without a hash."""
    found: dict[str, str] = {}
    unhashed: list[str] = []
    current: str | None = None
    hashed = True
    for raw in lock.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = PIN.match(line)
        if m:
            if current is not None and not hashed:
                unhashed.append(current)
            current = canonicalize_name(m.group(1))
            found[current] = m.group(2)
            hashed = "--hash=" in line
        elif "--hash=" in line:
            hashed = True
    if current is not None and not hashed:
        unhashed.append(current)
    return found, unhashed


def main(argv: list[str]) -> int:
    """Check each lock file named on the command line (the runtime lock first, then the test lock)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = [Requirement(r) for r in project["dependencies"]]
    test = [Requirement(r) for r in project.get("optional-dependencies", {}).get("test", [])]
    problems: list[str] = []
    for name in argv:
        lock = ROOT / name
        if not lock.exists():
            problems.append(f"{name}: missing; run scripts/lock")
            continue
        found, unhashed = pins(lock)
        wanted = runtime + (test if "test" in name else [])
        for req in wanted:
            version = found.get(canonicalize_name(req.name))
            if version is None:
                problems.append(f"{name}: {req.name} is in pyproject.toml but not locked; run scripts/lock")
            elif not req.specifier.contains(version, prereleases=True):
                problems.append(f"{name}: {req.name}=={version} does not satisfy '{req}'; run scripts/lock")
        problems.extend(f"{name}: {pkg} has no hash" for pkg in unhashed)
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["requirements.lock", "requirements-test.lock"]))
