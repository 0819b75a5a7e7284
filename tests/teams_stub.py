"""A local Bot Connector service: what Teams' ``serviceUrl`` answers, on 127.0.0.1.

It records every activity the bot sends, replies to or updates, answers member look-ups from its
roster, checks each Adaptive Card the way Teams would refuse or mangle it, and serves a JWKS so
tests can sign tokens the SDK's validator checks (``trusted_keys``). Tests build the inbound
activities with ``message``/``invoke``/... and POST them to the bot's real ``/api/messages``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import PyJWKClient
from microsoft_agents.hosting.core.authorization import AuthenticationConstants
from microsoft_agents.hosting.core.authorization.jwt import jwt_token_validator

STUBS: list[TeamsStub] = []
BOT = {"id": "28:onboarding-bot", "name": "Onboarding"}
TENANT = "5a1f2c3d-0000-4000-8000-00000000beef"
ADAPTIVE = "application/vnd.microsoft.card.adaptive"
# Teams refuses messages over ~28 KB; the cards here should be far below it.
MAX_ACTIVITY_BYTES = 28_000


def teams_user_id(name: str) -> str:
    """A Teams user id as long as real ones: ``29:1`` and about 130 more characters (Slack's ids
    are 11), so every test that stores one checks that the columns hold it."""
    digest = hashlib.sha512(name.encode()).digest() + hashlib.sha256(name.encode()).digest()
    return f"29:1{base64.urlsafe_b64encode(digest).decode().rstrip('=')}-{name}"


def aad_object_id(user_id: str) -> str:
    """The member's Entra object id: a GUID, unlike the Teams user id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, user_id))


MARTA, DAN, VISITOR, NOEMAIL = (teams_user_id(n) for n in ("marta", "dan", "visitor", "noemail"))


@dataclass
class Sent:
    kind: str  # send (new message), reply, update
    conversation_id: str
    activity: dict[str, Any]
    activity_id: str
    authorization: str | None
    at: float


@dataclass
class TeamsStub:
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    latency: float = 0.0
    sent: list[Sent] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    # ``POST v3/conversations`` bodies (the bot opening a chat), and whether Teams refuses them
    created: list[dict[str, Any]] = field(default_factory=list)
    refuse_create: bool = False
    url: str = ""
    signing_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    key_id: str = "stub-key-1"
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _ids: int = 0

    def __post_init__(self) -> None:
        STUBS.append(self)

    # ----- what tests read --------------------------------------------------------------------

    def messages(self) -> list[Sent]:
        return [s for s in self.sent if s.activity.get("type") == "message"]

    async def wait_for(
        self, predicate: Callable[[Sent], bool], *, count: int = 1, timeout: float = 10.0
    ) -> list[Sent]:
        def found() -> list[Sent]:
            return [s for s in self.sent if predicate(s)]

        async def arrived() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(found()) >= count)

        await asyncio.wait_for(arrived(), timeout)
        return found()

    # ----- the wire ---------------------------------------------------------------------------

    async def _record(
        self, request: web.Request, kind: str, activity_id: str | None = None
    ) -> web.Response:
        if self.latency:
            await asyncio.sleep(self.latency)
        raw = await request.read()
        conversation = request.match_info["conversation"]
        try:
            activity = json.loads(raw)
        except ValueError:
            self.invalid.append(f"{kind}: body is not JSON")
            return web.json_response({"error": {"code": "BadSyntax"}}, status=400)
        self._check(kind, activity, len(raw))
        if activity_id is None or kind == "reply":
            self._ids += 1
            activity_id = f"1{self._ids:012d}"
        self.sent.append(Sent(kind, conversation, activity, activity_id,
                              request.headers.get("Authorization"), time.monotonic()))  # fmt: skip
        async with self._changed:
            self._changed.notify_all()
        return web.json_response({"id": activity_id})

    async def send(self, request: web.Request) -> web.Response:
        return await self._record(request, "send")

    async def reply(self, request: web.Request) -> web.Response:
        return await self._record(request, "reply", request.match_info["activity"])

    async def update(self, request: web.Request) -> web.Response:
        return await self._record(request, "update", request.match_info["activity"])

    async def create(self, request: web.Request) -> web.Response:
        """``POST v3/conversations``: a personal chat with the one member named, as the Bot
        Connector opens it (the same id for the same member: Teams has one chat per bot and
        person). Refused as Teams does when the app cannot reach that person."""
        if self.latency:
            await asyncio.sleep(self.latency)
        body = await request.json()
        self.created.append(body)
        members = body.get("members") or []
        if self.refuse_create or len(members) != 1 or body.get("isGroup"):
            return web.json_response(
                {
                    "error": {
                        "code": "Forbidden",
                        "message": "The bot is not installed for the user",
                    }
                },
                status=403,
            )
        tenant = body.get("tenantId") or (body.get("channelData") or {}).get("tenant", {}).get("id")
        if tenant != TENANT or not (body.get("bot") or {}).get("id"):
            self.invalid.append(f"create conversation: tenant {tenant!r}, bot {body.get('bot')!r}")
        return web.json_response({"id": personal_chat(members[0]["id"])["id"]}, status=201)

    async def member(self, request: web.Request) -> web.Response:
        if self.latency:
            await asyncio.sleep(self.latency)
        user_id = request.match_info["member"]
        self.lookups.append(user_id)
        found = self.members.get(user_id)
        if found is None:
            return web.json_response(
                {"error": {"code": "MemberNotFoundInConversation",
                           "message": "The member is not in the conversation"}},
                status=404,
            )  # fmt: skip
        return web.json_response(found)

    async def keys(self, request: web.Request) -> web.Response:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.signing_key.public_key(), as_dict=True)
        return web.json_response({"keys": [{**public, "kid": self.key_id, "use": "sig"}]})

    def _check(self, kind: str, activity: dict[str, Any], size: int) -> None:
        """What Teams would refuse or show broken: the bot's messages must never hit these."""
        where = f"{kind} {activity.get('type')}"
        if size > MAX_ACTIVITY_BYTES:
            self.invalid.append(f"{where}: {size} bytes, over Teams' message size")
        if activity.get("type") == "message" and not (
            activity.get("text") or activity.get("attachments")
        ):
            self.invalid.append(f"{where}: neither text nor attachments")
        for attachment in activity.get("attachments") or []:
            if attachment.get("contentType") != ADAPTIVE:
                continue
            content = attachment.get("content")
            if not isinstance(content, dict):  # a JSON string shows as raw text in Teams
                self.invalid.append(f"{where}: card content is {type(content).__name__}")
                continue
            problems = card_problems(content)
            self.invalid.extend(f"{where}: {p}" for p in problems)


def card_problems(card: dict[str, Any]) -> list[str]:
    """Adaptive Card rules Teams enforces that a dict cannot: schema up to 1.5, typed elements,
    inputs with ids, actions with titles."""
    problems: list[str] = []
    if card.get("type") != "AdaptiveCard":
        problems.append(f"type {card.get('type')!r} is not AdaptiveCard")
    version = str(card.get("version", ""))
    if version not in ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5"):
        problems.append(f"version {version!r}: Teams renders Adaptive Cards up to 1.5")

    def walk(node: Any, path: str) -> None:
        if isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{path}[{i}]")
            return
        if not isinstance(node, dict):
            return
        kind = node.get("type")
        if path.endswith("]") and not kind and "title" not in node and "value" not in node:
            problems.append(f"{path}: element without a type")
        if isinstance(kind, str) and kind.startswith("Input.") and not node.get("id"):
            problems.append(f"{path}: {kind} without an id")
        if isinstance(kind, str) and kind.startswith("Action.") and not node.get("title"):
            problems.append(f"{path}: {kind} without a title")
        for key, value in node.items():
            if key != "data":
                walk(value, f"{path}.{key}")

    walk(card.get("body", []), "body")
    walk(card.get("actions", []), "actions")
    return problems


@asynccontextmanager
async def running_stub(stub: TeamsStub) -> AsyncIterator[TeamsStub]:
    app = web.Application()
    app.router.add_post("/v3/conversations", stub.create)
    app.router.add_post("/v3/conversations/{conversation}/activities", stub.send)
    app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", stub.reply)
    app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", stub.update)
    app.router.add_get("/v3/conversations/{conversation}/members/{member}", stub.member)
    app.router.add_get("/keys", stub.keys)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    stub.url = f"http://127.0.0.1:{server.port}/"
    try:
        yield stub
    finally:
        await server.close()


# ----- inbound activities ----------------------------------------------------------------------


def member(user_id: str, email: str | None, name: str = "Someone") -> dict[str, Any]:
    """What ``GET v3/conversations/{id}/members/{user}`` answers for a Teams user."""
    found = {"id": user_id, "name": name, "aadObjectId": aad_object_id(user_id), "tenantId": TENANT,
             "userRole": "user"}  # fmt: skip
    if email:
        found |= {"email": email, "userPrincipalName": email}
    return found


def _base(
    kind: str,
    service_url: str,
    *,
    user_id: str,
    locale: str,
    conversation: dict[str, Any] | None = None,
    channel_data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "type": kind,
        "id": f"f:{uuid.uuid4().hex[:12]}",
        "timestamp": "2026-12-02T10:00:00.000Z",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "locale": locale,
        "from": {"id": user_id, "name": "Someone", "aadObjectId": aad_object_id(user_id)},
        "recipient": dict(BOT),
        "conversation": conversation or personal_chat(user_id),
        "channelData": channel_data or {"tenant": {"id": TENANT}},
    }


def personal_chat(user_id: str) -> dict[str, Any]:
    """The bot's one personal chat with the user: an ``a:1...`` id as long as Teams' (the SDK
    cuts conversation ids in connector URLs at 150 characters, so real ones are shorter)."""
    digest = hashlib.sha512(f"chat:{user_id}".encode()).digest() * 2
    chat = "a:1" + base64.urlsafe_b64encode(digest).decode()[:127]
    return {"id": chat, "conversationType": "personal", "tenantId": TENANT}


def channel(name: str = "general") -> dict[str, Any]:
    return {"id": f"19:{name}@thread.tacv2", "conversationType": "channel", "tenantId": TENANT,
            "isGroup": True}  # fmt: skip


def team_data(name: str = "general") -> dict[str, Any]:
    return {"tenant": {"id": TENANT}, "team": {"id": f"19:team-{name}@thread.tacv2"},
            "channel": {"id": f"19:{name}@thread.tacv2"}}  # fmt: skip


def message(
    text: str, service_url: str, *, user_id: str = MARTA, locale: str = "en-US",
    mention: bool = False, conversation: dict[str, Any] | None = None,
    channel_data: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A message as Teams posts it; ``mention`` prefixes the bot's @mention (team scope)."""
    activity = _base("message", service_url, user_id=user_id, locale=locale,
                     conversation=conversation, channel_data=channel_data)  # fmt: skip
    activity["textFormat"] = "plain"
    if mention:
        at = f"<at>{BOT['name']}</at>"
        activity["text"] = f"{at} {text}"
        activity["entities"] = [{"type": "mention", "text": at, "mentioned": dict(BOT)}]
    else:
        activity["text"] = text
    return activity


def invoke(
    name: str, data: dict[str, Any], service_url: str, *, user_id: str = MARTA,
    locale: str = "en-US", conversation: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """``task/fetch`` or ``task/submit``: ``data`` is the button's data merged with the inputs."""
    activity = _base("invoke", service_url, user_id=user_id, locale=locale,
                     conversation=conversation)  # fmt: skip
    activity["name"] = name
    activity["value"] = {"data": data, "context": {"theme": "default"}}
    return activity


def bot_added(service_url: str, *, user_id: str = MARTA, locale: str = "en-US",
              conversation: dict[str, Any] | None = None,
              channel_data: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """``conversationUpdate`` with the bot in ``membersAdded``: the app was installed here."""
    activity = _base("conversationUpdate", service_url, user_id=user_id, locale=locale,
                     conversation=conversation, channel_data=channel_data)  # fmt: skip
    activity["membersAdded"] = [dict(BOT)]
    return activity


def bot_removed(service_url: str, *, user_id: str = MARTA) -> dict[str, Any]:
    """``conversationUpdate`` with the bot in ``membersRemoved``: the app was removed from the
    user's personal chat."""
    activity = _base("conversationUpdate", service_url, user_id=user_id, locale="en-US")
    activity["membersRemoved"] = [dict(BOT)]
    return activity


def installation(action: str, service_url: str, *, user_id: str = MARTA) -> dict[str, Any]:
    """``installationUpdate`` (``add`` or ``remove``) in the user's personal chat."""
    activity = _base("installationUpdate", service_url, user_id=user_id, locale="en-US")
    activity["action"] = action
    return activity


# ----- tokens ----------------------------------------------------------------------------------


def token(stub: TeamsStub, *, audience: str, key: rsa.RSAPrivateKey | None = None,
          kid: str | None = "default", lifetime: int = 300,
          service_url: str = "https://smba.trafficmanager.net/teams/") -> str:  # fmt: skip
    """A Bot Framework-style JWT, signed by the stub's published key unless ``key`` is given."""
    now = int(time.time())
    claims = {"iss": "https://api.botframework.com", "aud": audience, "nbf": now - 10,
              "exp": now + lifetime, "serviceurl": service_url}  # fmt: skip
    headers = {} if kid is None else {"kid": stub.key_id if kid == "default" else kid}
    return jwt.encode(claims, key or stub.signing_key, algorithm="RS256", headers=headers)


@contextmanager
def trusted_keys(stub: TeamsStub, tenant_id: str) -> Iterator[None]:
    """Make the SDK's token validator fetch its signing keys from the stub instead of Microsoft.

    The validator keeps one ``PyJWKClient`` per JWKS address in a class-level cache; seeding that
    cache is the only way to keep the key download on this machine (the addresses are fixed
    https URLs). Everything after the download, the signature, audience and expiry checks, is the
    SDK's own code.
    """
    cache = jwt_token_validator.JwtTokenValidator._jwk_client_manager._cache
    addresses = [
        AuthenticationConstants.PUBLIC_ABS_JWKS_URL,
        AuthenticationConstants.GOV_ABS_JWKS_URL,
        f"https://login.microsoftonline.com/{tenant_id}/discovery/v2.0/keys",
    ]
    saved = {a: cache.get(a) for a in addresses}
    for address in addresses:
        cache[address] = jwt_token_validator._JwkClientCacheEntry(
            PyJWKClient(stub.url + "keys"), threading.Lock()
        )
    try:
        yield
    finally:
        for address, entry in saved.items():
            if entry is None:
                cache.pop(address, None)
            else:
                cache[address] = entry
