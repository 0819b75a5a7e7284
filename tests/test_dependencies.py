"""Every dependency has a floor and a major-version ceiling, so a fresh install today gets what CI
tested, and a security floor cannot silently slip back (aiohttp's request-smuggling fixes)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
SECURITY_FLOORS = {"aiohttp": "3.12.14"}  # request-smuggling fixes (GHSA-9548-qrrj-x5pj)


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = [*project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        lines += extra
    return [Requirement(line) for line in lines]


def _bounds(spec: SpecifierSet) -> tuple[Version | None, Version | None]:
    floor = next((Version(s.version) for s in spec if s.operator in (">=", "==", "~=")), None)
    ceiling = next((Version(s.version) for s in spec if s.operator == "<"), None)
    return floor, ceiling


def test_every_dependency_has_a_floor_and_a_major_version_ceiling() -> None:
    unbounded = []
    for req in _requirements():
        floor, ceiling = _bounds(req.specifier)
        if floor is None or ceiling is None:
            unbounded.append(str(req))
            continue
        # A major-version boundary above the floor ("<4", "<1" for a 0.x package).
        assert ceiling > floor and ceiling.release[1:] in ((), (0,), (0, 0)), req
    assert unbounded == [], f"no floor or no ceiling: {unbounded}"


def test_security_floors_and_apscheduler_3() -> None:
    by_name = {req.name.lower(): req for req in _requirements()}
    for name, floor in SECURITY_FLOORS.items():
        floor_found, _ = _bounds(by_name[name].specifier)
        assert floor_found is not None and floor_found >= Version(floor), by_name[name]
    apscheduler = by_name["apscheduler"].specifier
    assert apscheduler.contains("3.11.0") and not apscheduler.contains("4.0.0")
