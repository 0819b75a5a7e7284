"""``onboard-bot teams-package``: the Teams app package (manifest.json and two icons in a zip).

The manifest follows schema v1.29 (``OfficeDev/microsoft-teams-app-schema``, June 2026): the bot's
Entra app id, personal and team scopes, the "onboard" command, and ``validDomains`` from
``PUBLIC_URL``. Upload the zip in Teams (Apps > Manage your apps > Upload an app) or the Teams
admin center.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.settings import Settings
from handlers.teams.ids import COMMAND
from services.i18n import Translator

SCHEMA_VERSION = "1.29"
SCHEMA_URL = f"https://developer.microsoft.com/json-schemas/teams/v{SCHEMA_VERSION}/MicrosoftTeams.schema.json"
ACCENT_COLOR = "#1F5EA8"  # the colour icon's background
ICONS = {"color": "color.png", "outline": "outline.png"}
SCOPES = ["personal", "team"]
SEMVER = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")


@dataclass(frozen=True)
class Publisher:
    """Who publishes the app, as Teams shows it on the app's details page."""

    name: str
    website_url: str
    privacy_url: str
    terms_of_use_url: str


class PackageError(ValueError):
    """Something the package needs is not configured; the message says what to set."""


def manifest(settings: Settings, publisher: Publisher, *, version: str = "1.0.0") -> dict[str, Any]:
    if not settings.teams_app_id:
        raise PackageError("set TEAMS_APP_ID (the bot's Entra app id) to build the Teams package")
    if not SEMVER.fullmatch(version):
        raise PackageError(f"--version {version}: Teams wants three numbers, such as 1.0.1")
    if len(publisher.name) > 32:
        raise PackageError(f"--developer: at most 32 characters ({len(publisher.name)} given)")
    t = Translator("en")
    domains = [urlsplit(settings.public_url).hostname] if settings.public_url else []
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": SCHEMA_VERSION,
        "version": version,
        "id": settings.teams_app_id,
        "developer": {
            "name": publisher.name,
            "websiteUrl": publisher.website_url,
            "privacyUrl": publisher.privacy_url,
            "termsOfUseUrl": publisher.terms_of_use_url,
        },
        "name": {"short": "Autotask Onboarding", "full": "Autotask client onboarding"},
        "description": {
            "short": "Onboard newly won clients into Autotask PSA from Teams.",
            "full": t("teams.welcome"),
        },
        "icons": dict(ICONS),
        "accentColor": ACCENT_COLOR,
        "bots": [
            {
                "botId": settings.teams_app_id,
                "scopes": list(SCOPES),
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {
                        "scopes": list(SCOPES),
                        "commands": [
                            {"title": COMMAND, "description": t("teams.command_description")}
                        ],
                    }
                ],
            }
        ],
        "validDomains": [d for d in domains if d],
    }


def write_package(
    settings: Settings, publisher: Publisher, target: Path, *, version: str = "1.0.0"
) -> Path:
    """Write the zip (manifest.json and the icons at its root, as Teams requires)."""
    body = manifest(settings, publisher, version=version)
    icons = resources.files("bot.teams_app")
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(body, indent=2, ensure_ascii=False))
        for name in ICONS.values():
            package.writestr(name, icons.joinpath(name).read_bytes())
    return target


def default_publisher(settings: Settings, name: str | None, website: str | None,
                      privacy: str | None, terms: str | None) -> Publisher:  # fmt: skip
    """The publisher's pages default to PUBLIC_URL (the manifest requires all three)."""
    site = website or settings.public_url
    if not site:
        raise PackageError(
            "set PUBLIC_URL (the public base URL where Autotask and chat platforms reach this "
            "bot), or pass --website-url"
        )
    for url in (site, privacy, terms):
        if url and not url.startswith("https://"):
            raise PackageError(f"{url}: Teams wants https:// addresses for the publisher's pages")
    return Publisher(name or "Autotask Onboarding", site, privacy or site, terms or site)
