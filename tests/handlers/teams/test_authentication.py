"""With TEAMS_* credentials every request needs a valid Bot Framework token; without them, the bot
answers only activities whose serviceUrl is on this machine."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.teams_harness import APP_ID, PASSWORD, TENANT_ID, Harness, running_bot
from tests.teams_stub import message, token, trusted_keys


@pytest.fixture
async def secured(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_bot(tmp_path, credentials=True) as harness:
        with trusted_keys(harness.stub, TENANT_ID):
            yield harness


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


async def test_an_unsigned_request_is_refused(secured: Harness) -> None:
    reply = await secured.post(message("onboard Acme", secured.stub.url))
    assert reply.status == 401
    assert secured.stub.sent == [] and secured.stub.lookups == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Basic b25ib2FyZDpib3Q="},
        bearer("not-a-jwt"),
        bearer("a.b.c"),
    ],
    ids=["basic-auth", "garbage", "three-dots"],
)
async def test_a_malformed_authorization_header_is_refused(
    secured: Harness, headers: dict[str, str]
) -> None:
    reply = await secured.post(message("onboard Acme", secured.stub.url), headers)
    assert reply.status == 401
    assert secured.stub.sent == []


async def test_a_token_signed_with_another_key_is_refused(secured: Harness) -> None:
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = token(secured.stub, audience=APP_ID, key=forger)  # right key id, wrong signature
    reply = await secured.post(message("onboard Acme", secured.stub.url), bearer(forged))
    assert reply.status == 401
    assert secured.stub.sent == []


async def test_a_token_for_another_bot_is_refused(secured: Harness) -> None:
    elsewhere = token(secured.stub, audience="00000000-1111-2222-3333-444444444444")
    reply = await secured.post(message("onboard Acme", secured.stub.url), bearer(elsewhere))
    assert reply.status == 401


async def test_an_expired_token_is_refused(secured: Harness) -> None:
    old = token(secured.stub, audience=APP_ID, lifetime=-600)  # past the SDK's 5-minute leeway
    reply = await secured.post(message("onboard Acme", secured.stub.url), bearer(old))
    assert reply.status == 401


async def test_a_token_without_a_key_id_is_refused_not_a_server_error(secured: Harness) -> None:
    # The SDK's validator raises KeyError('kid') here; the route turns that into a refusal.
    no_kid = token(secured.stub, audience=APP_ID, kid=None)
    reply = await secured.post(message("onboard Acme", secured.stub.url), bearer(no_kid))
    assert reply.status == 401


async def test_the_password_never_reaches_the_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_bot(tmp_path, credentials=True) as harness:
        with trusted_keys(harness.stub, TENANT_ID):
            await harness.post(message("onboard Acme", harness.stub.url))
            await harness.post(message("onboard Acme", harness.stub.url),
                               bearer(token(harness.stub, audience=APP_ID, kid=None)))  # fmt: skip
    assert caplog.records
    assert PASSWORD not in caplog.text


async def test_anonymous_mode_ignores_activities_for_other_machines(teams: Harness) -> None:
    # Without credentials nobody vouches for the sender: following this serviceUrl would let
    # anyone who can reach the bot claim to be any Teams member.
    reply = await teams.post(message("onboard Acme", "https://attacker.example/teams/"))
    assert reply.status == 403
    assert teams.stub.sent == [] and teams.stub.lookups == []


async def test_a_valid_token_still_cannot_send_replies_outside_microsofts_hosts(
    secured: Harness,
) -> None:
    # The signature, audience and expiry pass; the serviceUrl (here the stub on 127.0.0.1, as an
    # attacker with a stolen token might name) is not a Bot Connector host, so nothing is sent.
    good = token(secured.stub, audience=APP_ID, service_url=secured.stub.url)
    reply = await secured.post(message("onboard Acme", secured.stub.url), bearer(good))
    assert reply.status == 401
    assert reply.body == {"error": "Service URL is not allowed by the host validator."}
    assert secured.stub.sent == [] and secured.stub.lookups == []


async def test_next_to_a_slack_app_without_teams_credentials_nothing_is_served(
    tmp_path: Path,
) -> None:
    from tests.slack_harness import running_bot as running_slack_bot

    async with running_slack_bot(tmp_path) as slack:
        url = slack.url.replace("/slack/events", "/api/messages")
        async with slack.http.post(url, json=message("onboard Acme", "http://127.0.0.1:9/")) as r:
            assert r.status in (404, 405)
