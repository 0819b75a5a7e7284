"""Zones, credentials, and the promise that the secret never leaks."""

from __future__ import annotations

import logging

import httpx
import pytest
from pydantic import SecretStr

from services.autotask.client import AutotaskClient
from services.autotask.errors import AuthenticationError, AutotaskError, ZoneDiscoveryError
from services.autotask.limits import NO_DELAY_RETRIES
from services.autotask.sandbox import Fault, SandboxTransport, sandbox_credentials
from services.autotask.zones import AutotaskAuth, Credentials, Zone


def _zone_calls(sandbox: SandboxTransport, http_log: list[httpx.Request]) -> int:
    return sum(1 for r in http_log if r.url.path.lower().endswith("zoneinformation"))


class _Recorder(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


async def test_the_zone_is_discovered_once_and_cached_per_user(sandbox: SandboxTransport) -> None:
    recorder = _Recorder(sandbox)
    cache: dict[str, Zone] = {}
    async with httpx.AsyncClient(transport=recorder) as http:
        for _ in range(2):  # two clients of the process share the cache
            client = AutotaskClient(sandbox_credentials(), http_client=http, zone_cache=cache)
            await client.get("Companies", 1)
            await client.get("Companies", 2)
    assert _zone_calls(sandbox, recorder.requests) == 1
    api_hosts = {
        r.url.host for r in recorder.requests if "zoneinformation" not in r.url.path.lower()
    }
    assert api_hosts == {"webservices14.autotask.net"}


async def test_a_401_triggers_one_zone_rediscovery(sandbox: SandboxTransport) -> None:
    recorder = _Recorder(sandbox)
    async with httpx.AsyncClient(transport=recorder) as http:
        client = AutotaskClient(sandbox_credentials(), http_client=http)
        await client.get("Companies", 1)
        sandbox.tenant.zone_number = 5  # the tenant moved zones
        assert await client.get("Companies", 1) is not None
    assert _zone_calls(sandbox, recorder.requests) == 2
    assert recorder.requests[-1].url.host == "webservices5.autotask.net"


async def test_bad_credentials_fail_after_exactly_one_rediscovery(
    sandbox: SandboxTransport,
) -> None:
    recorder = _Recorder(sandbox)
    wrong = Credentials(
        sandbox_credentials().username, SecretStr("wrong"), sandbox_credentials().integration_code
    )
    async with httpx.AsyncClient(transport=recorder) as http:
        client = AutotaskClient(wrong, http_client=http, retry=NO_DELAY_RETRIES)
        with pytest.raises(AuthenticationError):
            await client.get("Companies", 1)
    assert _zone_calls(sandbox, recorder.requests) == 2
    assert sum(1 for r in recorder.requests if r.url.path.endswith("Companies/1")) == 2


async def test_an_unknown_api_user_gets_a_clear_zone_error(sandbox: SandboxTransport) -> None:
    creds = Credentials("nobody@example.com", SecretStr("x"), SecretStr("y"))
    async with httpx.AsyncClient(transport=sandbox) as http:
        with pytest.raises(ZoneDiscoveryError, match="AUTOTASK_USERNAME"):
            await AutotaskClient(creds, http_client=http).get("Companies", 1)


async def test_a_zone_on_a_foreign_host_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"zoneName": "X", "url": "https://evil.example/ATServicesRest/"}
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(ZoneDiscoveryError, match="not an Autotask host"):
            await AutotaskClient(sandbox_credentials(), http_client=http).get("Companies", 1)


def test_credentials_go_only_to_autotask_hosts_or_the_configured_one() -> None:
    auth = AutotaskAuth(sandbox_credentials(), extra_host="127.0.0.1")
    for url, allowed in [
        ("https://webservices14.autotask.net/ATServicesRest/V1.0/Companies", True),
        ("https://webservices.autotask.net/atservicesrest/v1.0/zoneInformation", True),
        ("http://127.0.0.1:8081/ATServicesRest/V1.0/Companies", True),
        ("https://webservices14.autotask.net.evil.example/x", False),
        ("https://evil.example/ATServicesRest/V1.0/Companies", False),
    ]:
        request = httpx.Request("GET", url)
        flow = auth.auth_flow(request)
        sent = next(flow)
        assert ("Secret" in sent.headers) is allowed, url


def test_real_credentials_never_cross_plain_http_except_to_this_machine() -> None:
    real = Credentials("api@msp.example", SecretStr("real-secret"), SecretStr("REAL-CODE"))
    for extra, url, allowed in [
        (None, "http://webservices14.autotask.net/ATServicesRest/V1.0/Companies", False),
        ("proxy.msp.example", "http://proxy.msp.example:8081/ATServicesRest/V1.0/Companies", False),
        ("proxy.msp.example", "https://proxy.msp.example/ATServicesRest/V1.0/Companies", True),
        ("127.0.0.1", "http://127.0.0.1:8081/ATServicesRest/V1.0/Companies", True),
        ("localhost", "http://localhost:8081/ATServicesRest/V1.0/Companies", True),
        ("::1", "http://[::1]:8081/ATServicesRest/V1.0/Companies", True),
        ("127.0.0.1", "http://127.0.0.2:8081/ATServicesRest/V1.0/Companies", False),  # not it
        ("127.0.0.1", "ws://127.0.0.1:8081/x", False),
    ]:
        sent = next(AutotaskAuth(real, extra_host=extra).auth_flow(httpx.Request("GET", url)))
        assert ("Secret" in sent.headers) is allowed, url
    # The sandbox's own published API user protects nothing: compose's shared sandbox over http.
    public = sandbox_credentials()
    sent = next(AutotaskAuth(public, extra_host="sandbox").auth_flow(
        httpx.Request("GET", "http://sandbox:8081/ATServicesRest/V1.0/Companies")))  # fmt: skip
    assert "Secret" in sent.headers


async def test_the_secret_never_appears_in_logs_or_errors(
    sandbox: SandboxTransport, caplog: pytest.LogCaptureFixture
) -> None:
    secret = sandbox_credentials().secret.get_secret_value()
    code = sandbox_credentials().integration_code.get_secret_value()
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    async with httpx.AsyncClient(transport=sandbox) as http:
        client = AutotaskClient(sandbox_credentials(), http_client=http, retry=NO_DELAY_RETRIES)
        await client.get("Companies", 1)
        for fault in (Fault(timeout=True, method="POST"), Fault(status=500, method="POST")):
            sandbox.fail_next(fault)
            try:
                await client.create("Companies", {"companyName": "x"})
            except AutotaskError as exc:
                errors.append(exc)
        bad = AutotaskClient(
            Credentials(sandbox_credentials().username, SecretStr(secret + "x"), SecretStr(code)),
            http_client=http, retry=NO_DELAY_RETRIES,
        )  # fmt: skip
        try:
            await bad.get("Companies", 1)
        except AutotaskError as exc:
            errors.append(exc)
    assert len(errors) == 3
    assert caplog.records, "the client should have logged something to inspect"
    text = caplog.text + " ".join(f"{e!s} {e!r} {e.__dict__}" for e in errors)
    text += repr(sandbox_credentials())
    assert secret not in text
    assert code not in text
