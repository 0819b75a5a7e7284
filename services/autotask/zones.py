"""Zone discovery and the rule that credentials only ever go to Autotask's own hosts."""

from __future__ import annotations

import ipaddress
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
    # The sandbox's published API user: worthless anywhere else, so it may cross plain HTTP to a
    # sandbox on another host (compose's `sandbox` service). Real credentials never may.
    public: bool = False

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


def is_loopback(host: str | None) -> bool:
    """This machine: ``localhost`` or an address in 127.0.0.0/8 or ``::1``."""
    name = (host or "").strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def plain_http_refusal(url: str, credentials: Credentials) -> str | None:
    """Why credentials may not go to ``url`` over plain HTTP, or ``None`` when they may."""
    parts = urlsplit(url)
    if parts.scheme != "http" or is_loopback(parts.hostname) or credentials.public:
        return None
    return (f"{url} is plain http: Autotask credentials are sent only over https, or over http "
            "to this machine (127.0.0.1, localhost, ::1) for a sandbox")  # fmt: skip


class AutotaskAuth(httpx.Auth):
    """Adds the three credential headers, but only where they are safe.

    Over https to Autotask's ``webservicesN.autotask.net`` or to the host of a base URL the
    operator set explicitly (``AUTOTASK_BASE_URL``): a redirect or a ``nextPageUrl`` elsewhere never
    receives the secret. Over plain http only to that explicit host when it is this machine (the
    ``onboard-bot sandbox`` on 127.0.0.1), or for the sandbox's own public API user; anything on
    the wire between two hosts could read them otherwise.
    """

    def __init__(self, credentials: Credentials, *, extra_host: str | None = None) -> None:
        self._credentials = credentials
        self._extra_host = extra_host.lower() if extra_host else None

    def allows(self, url: httpx.URL) -> bool:
        host = (url.host or "").lower()
        explicit = self._extra_host is not None and host == self._extra_host
        if url.scheme == "https":
            return bool(_AUTOTASK_HOST.match(host)) or explicit
        if url.scheme == "http":
            return explicit and (is_loopback(host) or self._credentials.public)
        return False

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
