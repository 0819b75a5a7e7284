"""Socket Mode (SLACK_APP_TOKEN set): the same app, over a WebSocket instead of /slack/events."""

from __future__ import annotations

import asyncio
from pathlib import Path

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.slack import build_app
from tests.slack_harness import running_bot


async def test_a_command_arrives_over_the_socket_is_acked_and_opens_the_modal(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, slack_app_token="xapp-test-token") as bot:
        assert bot.container.settings.slack_mode == "socket"
        handler = AsyncSocketModeHandler(build_app(bot.container), "xapp-test-token")
        await handler.connect_async()
        try:
            async with bot.stub._changed:
                await asyncio.wait_for(
                    bot.stub._changed.wait_for(lambda: bool(bot.stub.sockets)), 5
                )
            await bot.stub.sockets[0].send_json({
                "envelope_id": "env-1", "type": "slash_commands", "accepts_response_payload": True,
                "payload": {"command": "/onboard", "text": "Acme Dental", "user_id": "U1", "channel_id": "C1",
                            "team_id": "T1", "trigger_id": "trigger-socket", "response_url": bot.stub.url + "respond"},
            })  # fmt: skip
            [opened] = await bot.stub.wait_for("views.open")
            assert opened.args["trigger_id"] == "trigger-socket"
            async with bot.stub._changed:
                await asyncio.wait_for(bot.stub._changed.wait_for(
                    lambda: any(r.get("envelope_id") == "env-1" for r in bot.stub.socket_replies)), 5)  # fmt: skip
            await bot.stub.wait_for("views.update")
            await bot.settle()
        finally:
            await handler.close_async()
