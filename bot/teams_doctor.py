"""``doctor``'s Teams checks: the three settings together, an app id Entra can know, a token."""

from __future__ import annotations

import asyncio
import re

from microsoft_agents.authentication.msal import MsalAuth

from bot.doctor import Check
from bot.settings import Settings
from bot.teams import ROUTE
from bot.teams_outbound import auth_configuration

GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
TENANT_DOMAIN = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
BOT_CONNECTOR = "https://api.botframework.com"
TOKEN_TIMEOUT = 20.0

# What Entra's AADSTS codes mean for the person setting the bot up.
ENTRA_FIXES = {
    "AADSTS7000215": "TEAMS_APP_PASSWORD is not a valid client secret of the app: copy the secret's "
    "Value (not its Secret ID) from Entra > App registrations > Certificates & secrets",
    "AADSTS7000222": "the client secret has expired: create a new one and set TEAMS_APP_PASSWORD",
    "AADSTS700016": "Entra has no app TEAMS_APP_ID in tenant TEAMS_TENANT_ID: check both against "
    "the Azure Bot's Configuration page (Microsoft App ID, App Tenant ID)",
    "AADSTS90002": "TEAMS_TENANT_ID names no Entra tenant: use the Directory (tenant) ID",
    "AADSTS900023": "TEAMS_TENANT_ID is not a tenant id: use the Directory (tenant) ID",
}


async def teams_checks(settings: Settings) -> list[Check]:
    if settings.teams_mode == "off":
        fix = "set TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID to serve Teams"
        return [Check("Teams", True, "not configured", fix, warning=True)]
    if settings.teams_mode == "anonymous":
        fix = "set TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID before Teams can reach it"
        return [Check("Teams", True, f"anonymous local mode on {ROUTE} (local tools only)", fix,
                      warning=True)]  # fmt: skip
    checks: list[Check] = []
    app_id = settings.teams_app_id or ""
    tenant = settings.teams_tenant_id or ""
    if GUID.fullmatch(app_id):
        checks.append(Check("Teams app id", True, app_id))
    else:
        checks.append(Check("Teams app id", False, f"{app_id!r} is not a GUID",
                            "set TEAMS_APP_ID to the Azure Bot's Microsoft App ID (a GUID, "
                            "Entra's Application (client) ID)"))  # fmt: skip
    if GUID.fullmatch(tenant) or TENANT_DOMAIN.fullmatch(tenant):
        checks.append(Check("Teams tenant", True, tenant))
    else:
        checks.append(Check("Teams tenant", False, f"{tenant!r} is not a tenant id or domain",
                            "set TEAMS_TENANT_ID to Entra's Directory (tenant) ID"))  # fmt: skip
    checks.append(_endpoint(settings))
    if all(c.ok for c in checks[:2]):
        checks.append(await _token(settings))
    return checks


def _endpoint(settings: Settings) -> Check:
    if not settings.public_url:
        return Check("Teams endpoint", True, f"PUBLIC_URL is not set (Teams posts to {ROUTE})",
                     "set PUBLIC_URL and make the Azure Bot's messaging endpoint "
                     f"PUBLIC_URL{ROUTE}", warning=True)  # fmt: skip
    endpoint = settings.public_url + ROUTE
    if not endpoint.startswith("https://"):
        return Check("Teams endpoint", False, endpoint,
                     "Teams only calls https:// endpoints: put the bot behind TLS")  # fmt: skip
    return Check("Teams endpoint", True, f"{endpoint} (the Azure Bot's messaging endpoint)")


async def _token(settings: Settings) -> Check:
    """Ask Entra for the token replies need; unreachable is a warning, a refusal is a failure."""
    auth = MsalAuth(auth_configuration(settings))
    try:
        await asyncio.wait_for(
            auth.get_access_token(BOT_CONNECTOR, [f"{BOT_CONNECTOR}/.default"]), TOKEN_TIMEOUT
        )
    except ValueError as exc:  # Entra answered and refused
        text = str(exc)
        code = next((c for c in ENTRA_FIXES if c in text), None)
        detail = f"Entra refused: {code}" if code else "Entra refused the app's credentials"
        fix = ENTRA_FIXES.get(
            code or "", "check TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID"
        )
        return Check("Teams token", False, detail, fix)
    except (OSError, TimeoutError) as exc:  # requests' errors are OSErrors
        return Check("Teams token", True, f"Entra not reachable ({type(exc).__name__})",
                     "run doctor again where login.microsoftonline.com is reachable",
                     warning=True)  # fmt: skip
    return Check("Teams token", True, "Entra issued a Bot Connector token")
