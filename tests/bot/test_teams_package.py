"""``onboard-bot teams-package``: a zip Teams accepts, checked against manifest schema v1.29.

The required fields and limits below are the schema's own (``OfficeDev/microsoft-teams-app-schema``
``MicrosoftTeams.schema.json`` at v1.29, 2026-06): root ``required``, ``developer``, ``name``,
``description``, ``icons`` and ``bots[]`` items, the guid/semver/hexColor/anyHttpUrl definitions.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from PIL import Image

from bot.cli import main

APP_ID = "3f1c9a52-7d4e-4b8a-9c21-5e6f7a8b9c0d"
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
SEMVER = re.compile(r"^([0-9]|[1-9]+[0-9]*)\.([0-9]|[1-9]+[0-9]*)\.([0-9]|[1-9]+[0-9]*)$")
HTTP_URL = re.compile(r"^[Hh][Tt][Tt][Pp][Ss]?://")
ROOT_REQUIRED = ["manifestVersion", "version", "id", "developer", "name", "description", "icons",
                 "accentColor"]  # fmt: skip
ROOT_ALLOWED = {"$schema", *ROOT_REQUIRED, "bots", "validDomains"}


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> zipfile.ZipFile:
    monkeypatch.setenv("TEAMS_APP_ID", APP_ID)
    monkeypatch.setenv("TEAMS_APP_PASSWORD", "secret-value")
    monkeypatch.setenv("TEAMS_TENANT_ID", "8d2e4f60-1a3b-4c5d-8e9f-0a1b2c3d4e5f")
    monkeypatch.setenv("PUBLIC_URL", "https://onboarding.brightline-it.example/")
    target = tmp_path / "app.zip"
    result = CliRunner().invoke(main, ["teams-package", "-o", str(target), "--version", "1.2.0"])
    assert result.exit_code == 0, result.output
    assert "secret-value" not in result.output
    return zipfile.ZipFile(target)


def manifest_of(package: zipfile.ZipFile) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(package.read("manifest.json"))
    return data


def test_the_zip_holds_the_manifest_and_its_icons_at_the_root(package: zipfile.ZipFile) -> None:
    assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
    icons = manifest_of(package)["icons"]
    assert set(icons) == {"color", "outline"}
    assert {icons["color"], icons["outline"]} <= set(package.namelist())


def test_the_manifest_has_every_field_schema_1_29_requires(package: zipfile.ZipFile) -> None:
    m = manifest_of(package)
    assert [key for key in ROOT_REQUIRED if key not in m] == []
    assert set(m) <= ROOT_ALLOWED
    assert m["manifestVersion"] == "1.29"
    assert m["$schema"].endswith("/teams/v1.29/MicrosoftTeams.schema.json")
    assert GUID.match(m["id"]) and SEMVER.match(m["version"]) and m["version"] == "1.2.0"
    developer = m["developer"]
    assert {"name", "websiteUrl", "privacyUrl", "termsOfUseUrl"} <= set(developer)
    assert len(developer["name"]) <= 32
    assert all(HTTP_URL.match(developer[k]) for k in ("websiteUrl", "privacyUrl", "termsOfUseUrl"))
    assert len(m["name"]["short"]) <= 30 and len(m["name"].get("full", "")) <= 100
    assert len(m["description"]["short"]) <= 80 and len(m["description"]["full"]) <= 4000
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", m["accentColor"])
    assert len(m["validDomains"]) <= 100


def test_the_bot_is_ours_in_personal_and_team_scope_with_the_onboard_command(
    package: zipfile.ZipFile,
) -> None:
    m = manifest_of(package)
    (bot,) = m["bots"]
    assert {"botId", "scopes"} <= set(bot)
    assert bot["botId"] == APP_ID == m["id"]
    assert sorted(bot["scopes"]) == ["personal", "team"]
    assert len(bot["commandLists"]) <= 3
    (commands,) = bot["commandLists"]
    assert sorted(commands["scopes"]) == ["personal", "team"]
    assert len(commands["commands"]) <= 12
    (onboard,) = commands["commands"]
    assert onboard["title"] == "onboard" and len(onboard["title"]) <= 128
    assert 0 < len(onboard["description"]) <= 4000
    assert m["validDomains"] == ["onboarding.brightline-it.example"]
    assert m["developer"]["websiteUrl"] == "https://onboarding.brightline-it.example"


def test_the_icons_are_the_sizes_and_kinds_teams_requires(package: zipfile.ZipFile) -> None:
    color = Image.open(io.BytesIO(package.read("color.png")))
    outline = Image.open(io.BytesIO(package.read("outline.png")))
    assert color.format == "PNG" and color.size == (192, 192)
    assert outline.format == "PNG" and outline.size == (32, 32)
    # The outline icon is white on a transparent background (Teams tints it).
    assert outline.mode == "RGBA"
    data = outline.tobytes()  # RGBA, 4 bytes a pixel
    pixels = {(data[i], data[i + 1], data[i + 2], data[i + 3]) for i in range(0, len(data), 4)}
    assert all(a == 0 or (r, g, b) == (255, 255, 255) for r, g, b, a in pixels)
    assert any(p[3] == 0 for p in pixels) and any(p[3] == 255 for p in pixels)


def test_without_an_app_id_it_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_URL", "https://onboarding.brightline-it.example")
    result = CliRunner().invoke(main, ["teams-package"])
    assert result.exit_code == 1
    assert "set TEAMS_APP_ID" in result.output


def test_a_version_teams_would_refuse_is_refused_here(
    package: zipfile.ZipFile, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result = CliRunner().invoke(main, ["teams-package", "-o", str(tmp_path / "x.zip"),
                                       "--version", "1.0"])  # fmt: skip
    assert result.exit_code == 1
    assert "three numbers" in result.output
