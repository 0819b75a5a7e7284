"""A message only the clicker sees: how a refused button press is answered, wherever it was."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient


async def tell_privately(client: AsyncWebClient, body: dict[str, Any], text: str) -> None:
    """A message only the clicker sees, in the conversation of the clicked message."""
    user_id = body["user"]["id"]
    where = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    if where:
        await client.chat_postEphemeral(channel=where, user=user_id, text=text)
    else:
        dm: Any = await client.conversations_open(users=user_id)
        await client.chat_postMessage(channel=dm["channel"]["id"], text=text)
