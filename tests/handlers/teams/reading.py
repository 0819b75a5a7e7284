"""Reading what the bot sent Teams: the card in a message or a dialog, and the words it shows."""

from __future__ import annotations

from typing import Any

from tests.teams_stub import ADAPTIVE, Sent


def card_of(sent: Sent) -> dict[str, Any]:
    (attachment,) = sent.activity["attachments"]
    assert attachment["contentType"] == ADAPTIVE
    content: dict[str, Any] = attachment["content"]
    return content


def dialog_card(body: Any) -> dict[str, Any]:
    task = body["task"]
    assert task["type"] == "continue"
    attachment = task["value"]["card"]
    assert attachment["contentType"] == ADAPTIVE
    content: dict[str, Any] = attachment["content"]
    return content


def words(card: dict[str, Any]) -> list[str]:
    return [run["text"] for block in card["body"] for run in block["inlines"]]
