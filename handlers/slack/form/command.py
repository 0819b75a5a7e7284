"""``/onboard [company] | help | status [company] | list``.

Who sees what: ``status`` lists recent onboardings (everyone's, from any front-end) to people who
may onboard; ``list`` shows only the asker's own drafts and onboardings; others are told why not.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.deps import SlackDeps
from handlers.slack.form.opening import fill
from handlers.slack.ids import COMMAND, Action
from handlers.slack.lines import draft_line, onboarding_line, unfinished_blocks
from handlers.slack.mrkdwn import bold, fallback
from handlers.slack.views import loading_view
from handlers.slack.wording import autotask_failure, refusal
from services.autotask.errors import AutotaskError
from services.i18n import Translator
from services.onboarding.actor import RefusedError

HELP = ("start", "status", "list", "help")
STATUS, LIST, HELP_WORDS = ("status", "estado"), ("list", "lista"), ("help", "ayuda")


def help_text(t: Translator) -> str:
    return "\n".join(
        t(f"slack.help_{what}", command=bold(t(f"slack.help_{what}_usage"))) for what in HELP
    )


def register(app: Any, deps: SlackDeps) -> None:
    async def onboard(
        ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        await ack()
        user_id = command["user_id"]
        text = (command.get("text") or "").strip()
        word, _, rest = text.partition(" ")
        if word.lower() in HELP_WORDS:
            t = Translator((await deps.user(client, user_id)).locale)
            await respond(text=help_text(t), response_type="ephemeral")
            return
        if word.lower() in STATUS + LIST:
            mine = word.lower() in LIST
            await respond(text=await _status(deps, client, user_id, rest, mine=mine),
                          response_type="ephemeral")  # fmt: skip
            return
        # The trigger id lives 3 seconds: open the modal before any other call.
        opened = await client.views_open(
            trigger_id=command["trigger_id"],
            view=loading_view(Translator(deps.known_locale(user_id))),
        )
        await fill(deps, client, view_id=opened["view"]["id"], user_id=user_id,
                   channel_id=command.get("channel_id"), company_text=text)  # fmt: skip
        await _offer_unfinished(deps, client, respond, user_id)

    app.command(COMMAND)(onboard)


async def _offer_unfinished(
    deps: SlackDeps, client: AsyncWebClient, respond: AsyncRespond, user_id: str
) -> None:
    """Beside the form, privately: the person's own onboardings that failed or stopped with the
    bot, with Retry or Resume, so none is left stranded unnoticed."""
    try:
        found = await deps.service.unfinished(await deps.actor(client, user_id))
    except (RefusedError, AutotaskError):
        return  # the modal already says why the person cannot onboard, or that Autotask is down
    if not found:
        return
    t = Translator((await deps.user(client, user_id)).locale)
    intro = SectionBlock(text=MarkdownTextObject(text=t("slack.unfinished_intro")))
    blocks = [intro, *unfinished_blocks(found[:5], t, Action.RETRY)]
    await respond(text=fallback(blocks), blocks=[b.to_dict() for b in blocks],
                  response_type="ephemeral")  # fmt: skip


async def _status(
    deps: SlackDeps, client: AsyncWebClient, user_id: str, company: str, *, mine: bool
) -> str:
    t = Translator((await deps.user(client, user_id)).locale)
    try:
        actor = await deps.actor(client, user_id)
        found = await deps.service.onboardings(actor, company=company or None, mine=mine)
        drafts = await deps.service.drafts(actor) if mine else []
    except RefusedError as refused:
        return refusal(refused, t)
    except AutotaskError as exc:  # who may onboard is looked up in Autotask
        return autotask_failure(exc, t)
    lines = [onboarding_line(o, t) for o in found]
    lines += [draft_line(d, t) for d in drafts]
    return "\n".join(lines) or t("slack.status_none")
