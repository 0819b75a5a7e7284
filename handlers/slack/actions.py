"""Buttons and dependent inputs: Back, draft resume/start over, dependent questions, Retry, Home."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack import flow
from handlers.slack.commands import start
from handlers.slack.deps import SlackDeps
from handlers.slack.ids import Action
from handlers.slack.metadata import ViewMeta
from handlers.slack.state import parse_page
from handlers.slack.views import loading_view
from services.i18n import Translator
from services.onboarding import form
from services.store import repositories as repo
from services.store.tables import Draft

logger = logging.getLogger(__name__)
DEPENDENT = [q.id for q in form.QUESTIONS.values() if q.dependent]


def register(app: Any, deps: SlackDeps) -> None:
    async def back(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        view = body["view"]
        found = await _own_draft(deps, view, body["user"]["id"])
        if found is None:
            return
        meta, draft = found
        t = Translator(meta.locale)
        answers = dict(draft.answers)
        on_review = body["actions"][0].get("value") == "review"
        if not on_review:
            answers = parse_page(
                draft.page, view["state"]["values"], answers
            )  # keep what was typed
        target = (
            draft.page if on_review else (form.previous_page(draft.page, answers) or draft.page)
        )
        await flow.save(deps, meta, body["user"]["id"], answers, target)
        await client.views_update(
            view_id=view["id"],
            hash=view.get("hash"),
            view=await flow.page(deps, target, answers, t, meta),
        )

    async def dependent_changed(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """A question others depend on changed: redraw the page (block ids keep typed values)."""
        await ack()
        view = body["view"]
        found = await _own_draft(deps, view, body["user"]["id"])
        if found is None:
            return
        meta, draft = found
        answers = parse_page(draft.page, view["state"]["values"], draft.answers)
        await flow.save(deps, meta, body["user"]["id"], answers, draft.page)
        if answers.get("company") and answers.get("company") != draft.answers.get("company"):
            # Warm the company's lists now, so its typeahead answers from memory.
            deps.background(_warm(deps, answers))
        await client.views_update(
            view_id=view["id"],
            hash=view.get("hash"),
            view=await flow.page(deps, draft.page, answers, Translator(meta.locale), meta),
        )

    async def resume_draft(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        meta = ViewMeta.load(body["view"].get("private_metadata"))
        if meta is None:
            return
        await start(
            deps,
            client,
            view_id=body["view"]["id"],
            user_id=body["user"]["id"],
            channel_id=meta.channel_id,
            resume_draft_id=meta.draft_id,
        )

    async def new_draft(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        meta = ViewMeta.load(body["view"].get("private_metadata"))
        if meta is None:
            return
        async with deps.db.transaction() as session:
            await repo.delete_draft(session, draft_id=meta.draft_id)
        await start(
            deps,
            client,
            view_id=body["view"]["id"],
            user_id=body["user"]["id"],
            channel_id=meta.channel_id,
            company_text=" ",
        )

    async def retry(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        onboarding_id = body["actions"][0]["value"]
        user_id = body["user"]["id"]
        report = await deps.runner.report(onboarding_id)
        t = Translator((await deps.user(client, user_id)).locale)
        await flow.run(
            deps,
            client,
            onboarding_id=onboarding_id,
            user_id=user_id,
            channel=None,
            t=t,
            company=report.company_name,
        )

    async def cancel(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()  # the run stops before its next step and updates its message itself
        await deps.runner.cancel(body["actions"][0]["value"])

    async def home_resume(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        opened = await client.views_open(
            trigger_id=body["trigger_id"],
            view=loading_view(Translator(deps.known_locale(body["user"]["id"]))),
        )
        await start(
            deps,
            client,
            view_id=opened["view"]["id"],
            user_id=body["user"]["id"],
            channel_id=None,
            resume_draft_id=body["actions"][0]["value"],
        )

    async def link_clicked(ack: AsyncAck) -> None:
        await ack()  # the browser opens the URL; Slack still expects an answer

    app.action(Action.BACK)(back)
    app.action(re.compile(rf"^({'|'.join(DEPENDENT)})$"))(dependent_changed)
    app.action(Action.RESUME_DRAFT)(resume_draft)
    app.action(Action.NEW_DRAFT)(new_draft)
    app.action(Action.RETRY)(retry)
    app.action(Action.CANCEL)(cancel)
    app.action(Action.HOME_RETRY)(retry)
    app.action(Action.HOME_RESUME)(home_resume)
    app.action(Action.OPEN_AUTOTASK)(link_clicked)


async def _own_draft(
    deps: SlackDeps, view: dict[str, Any], user_id: str
) -> tuple[ViewMeta, Draft] | None:
    """The clicked modal's draft if it exists and is the clicker's; a stranger changes nothing."""
    try:
        found = await flow.draft_of(deps, view, user_id)
    except flow.NotYoursError:
        logger.warning("user %s acted on a draft that is not theirs; ignored", user_id)
        return None
    if found is None or found[1] is None:
        return None
    return found[0], found[1]


async def _warm(deps: SlackDeps, answers: dict[str, Any]) -> None:
    for source in ("contacts", "team_members", "devices"):
        await deps.options.options(source, answers)
    await deps.runner.facts(answers, max_age=60.0)
