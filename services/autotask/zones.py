"""Zone discovery and the rule that credentials only ever go to Autotask's own hosts."""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

ZONE_DISCOVERY_URL = "https://webservices.autotask.net/atservicesrest/v1.0/zoneInformation"
API_VERSION_PATH = "V1.0/"
_AUTOTASK_HOST = re.compile(r"^webservices\d*\.autotask\.net$", re.IGNORECASE)


@dataclass(frozen=True)
class Credentials:
    username: str
    secret: SecretStr
    integration_code: SecretStr

    def __repr__(self) -> str:  # dataclass repr would print the SecretStr wrapper only; be explicit
        return f"Credentials(username={self.username!r}, secret='**********')"


@dataclass(frozen=True)
class Zone:
    name: str
    url: str
    web_url: str

    @property
    def api_base(self) -> str:
        """The versioned base URL, keeping the path exactly as zoneInformation spelled it."""
        base = self.url if self.url.endswith("/") else self.url + "/"
        return base + API_VERSION_PATH


def is_autotask_host(url: str) -> bool:
    return bool(_AUTOTASK_HOST.match(urlsplit(url).hostname or ""))


class AutotaskAuth(httpx.Auth):
    """Adds the three credential headers, but only on hosts allowed to see them.

    The allowed hosts are Autotask's ``webservicesN.autotask.net`` plus the host of a base URL the
    operator set explicitly (``AUTOTASK_BASE_URL``): a redirect or a ``nextPageUrl`` elsewhere never
    receives the secret.
    """

    def __init__(self, credentials: Credentials, *, extra_host: str | None = None) -> None:
        self._credentials = credentials
        self._extra_host = extra_host.lower() if extra_host else None

    def allows(self, url: httpx.URL) -> bool:
        host = (url.host or "").lower()
        return bool(_AUTOTASK_HOST.match(host)) or (
            self._extra_host is not None and host == self._extra_host
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.allows(request.url):
            request.headers["ApiIntegrationCode"] = (
                self._credentials.integration_code.get_secret_value()
            )
            request.headers["UserName"] = self._credentials.username
            request.headers["Secret"] = self._credentials.secret.get_secret_value()
        yield request


def company_url(zone: Zone, company_id: int) -> str | None:
    """The company's page in the Autotask web UI, when the zone's web URL is known."""
    if not zone.web_url:
        return None
    base = zone.web_url if zone.web_url.endswith("/") else zone.web_url + "/"
    return f"{base}Mvc/CRM/AccountDetail.mvc?AccountID={company_id}"
