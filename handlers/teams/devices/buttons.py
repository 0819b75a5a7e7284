"""The device card's Universal Actions: Attach as suggested, Review (and its Attach and Back),
Not a managed device, Rollout complete, Snooze.

Who may press them is the device follow-up's decision, from the Teams member the signed activity
comes from (``from`` and their member e-mail, never a value the card carries); anyone else is
told why in their language and the card is left as it is. Each answer comes within the invoke
budget: an attach answers once the follow-up accepted it (before any Autotask write) and goes on
in the background; the card shows "attaching", then the outcome, updated in place by the service.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from http import HTTPStatus
from typing import Any

from microsoft_agents.activity import AdaptiveCardInvokeResponse
from microsoft_agents.hosting.core import AgentApplication, TurnContext
from microsoft_agents.hosting.core.app.adaptive_card import factory

from handlers.teams import people
from handlers.teams.accepted import OnAccepted, start_within
from handlers.teams.cards import CONTENT_TYPE
from handlers.teams.deps import TeamsDeps
from handlers.teams.devices.cards import (
    DEVICE,
    OFFER,
    SKIP,
    Verb,
    device_card,
    review_card,
    reviewed,
)
from handlers.teams.dialogs import autotask_failure
from handlers.teams.references import PLATFORM
from services.autotask.errors import AutotaskError
from services.devices.cards import (
    ChoicesInvalidError,
    DeviceActor,
    DevicesRefusedError,
    ReviewForm,
)
from services.devices.service import DeviceFollowUps
from services.i18n import Translator

logger = logging.getLogger(__name__)
OFFER_ID = re.compile(r"[0-9]{1,18}")
Answer = AdaptiveCardInvokeResponse


def offer_id(data: Any) -> int | None:
    value = data.get(OFFER) if isinstance(data, dict) else None
    return int(value) if isinstance(value, str) and OFFER_ID.fullmatch(value) else None


def choices_of(data: Mapping[str, Any]) -> tuple[dict[int, int | None], dict[int, str]]:
    """Review's inputs: device id -> service id (None: skip), and what was chosen as typed (to
    keep it on a card shown again). A device left unchosen is left out: the follow-up asks."""
    choices: dict[int, int | None] = {}
    raw: dict[int, str] = {}
    for key, value in data.items():
        device = key.removeprefix(DEVICE)
        if not key.startswith(DEVICE) or not device.isdigit() or not isinstance(value, str):
            continue
        raw[int(device)] = value
        if value == SKIP:
            choices[int(device)] = None
        elif value.isdigit():
            choices[int(device)] = int(value)
    return choices, raw


def with_hidden(form: ReviewForm, choices: dict[int, int | None]) -> dict[int, int | None]:
    """The devices the Review card had no room for keep their suggested service."""
    shown = {d.device_id for d in reviewed(form)}
    hidden = {d.device_id: d.service_id for d in form.devices
              if d.device_id not in shown and d.service_id is not None}  # fmt: skip
    return {**hidden, **choices}


def showing(content: dict[str, Any]) -> Answer:
    """Answer with a card: Teams shows it in place of the pressed one, to the presser."""
    return Answer(status_code=HTTPStatus.OK, type=CONTENT_TYPE, value=content)


async def _answered(deps: TeamsDeps, work: Coroutine[Any, Any, Answer], t: Translator) -> Answer:
    task = deps.background.run(work)
    try:
        return await asyncio.wait_for(asyncio.shield(task), deps.invoke_budget)
    except TimeoutError:
        logger.warning("device button took longer than %.1f s; answered 'working'",
                       deps.invoke_budget)  # fmt: skip
        return factory.message(t("devices.teams_working"))


async def _tz(deps: TeamsDeps, who: DeviceActor) -> str | None:
    chat = await deps.conversations.personal(platform=PLATFORM, user_id=who.user_id,
                                             directory_id=who.user_id)  # fmt: skip
    return chat.tz if chat else None


async def current(
    deps: TeamsDeps, devices: DeviceFollowUps, offer: int, who: DeviceActor
) -> Answer:
    """The offer's card as it is now, in the presser's language."""
    card = await devices.card(offer)
    return showing(device_card(card, Translator(who.locale), tz=await _tz(deps, who)))


async def attaching(
    deps: TeamsDeps,
    devices: DeviceFollowUps,
    who: DeviceActor,
    offer: int,
    start: Callable[[Callable[[], Awaitable[None]]], Awaitable[Any]],
) -> Answer:
    """Start an attach in the background; answer once the follow-up accepted it (the card shows
    "attaching"), with its refusal, or with "working" when Autotask is slow to read."""
    t = Translator(who.locale)

    async def run(on_accepted: OnAccepted, accepted: Callable[[], bool]) -> str | None:
        """The refusal to answer with; ``None`` once the attach went ahead."""
        try:
            await start(on_accepted)
        except DevicesRefusedError as error:
            if accepted():
                logger.info("device offer %s: attach refused after it started (%s)", offer,
                            error.key)  # fmt: skip
                return None
            return t(error.key)
        except AutotaskError as exc:  # Autotask could not be read before anything was written
            return autotask_failure(exc, t) if not accepted() else None
        return None

    started = await start_within(deps.background, run, deps.invoke_budget * 0.75)
    if started.refusal:
        return factory.message(started.refusal)
    if started.accepted or started.done:
        return await current(deps, devices, offer, who)
    return factory.message(t("devices.teams_working"))


async def _attach(deps: TeamsDeps, d: DeviceFollowUps, who: DeviceActor, offer: int,
                  data: Any) -> Answer:  # fmt: skip
    return await attaching(deps, d, who, offer, lambda ok: d.attach(who, offer, on_accepted=ok))


async def _review(deps: TeamsDeps, d: DeviceFollowUps, who: DeviceActor, offer: int,
                  data: Any) -> Answer:  # fmt: skip
    t = Translator(who.locale)
    form = await d.review(who, offer)
    try:  # the units it would change need a fresh read of Autotask: shown when it comes in time
        preview = await asyncio.wait_for(d.preview(who, offer), deps.invoke_budget / 2)
    except (TimeoutError, AutotaskError, DevicesRefusedError):
        preview = None
    return showing(review_card(form, t, preview=preview))


async def _submit(deps: TeamsDeps, d: DeviceFollowUps, who: DeviceActor, offer: int,
                  data: Any) -> Answer:  # fmt: skip
    t = Translator(who.locale)
    form = await d.review(who, offer)
    choices, raw = choices_of(data if isinstance(data, dict) else {})
    choices = with_hidden(form, choices)
    try:
        await d.validate(who, offer, choices)
    except ChoicesInvalidError as invalid:
        shown = {x.device_id for x in reviewed(form)}
        hidden = any(device not in shown for device in invalid.issues)
        return showing(review_card(form, t, chosen=raw, issues=invalid.issues,
                                   problem=t(invalid.key) if hidden else None))  # fmt: skip
    return await attaching(deps, d, who, offer,
                           lambda ok: d.attach(who, offer, choices, on_accepted=ok))  # fmt: skip


async def _back(deps: TeamsDeps, d: DeviceFollowUps, who: DeviceActor, offer: int,
                data: Any) -> Answer:  # fmt: skip
    await d.authorize(who, offer)
    return await current(deps, d, offer, who)


async def _not_managed(deps: TeamsDeps, d: DeviceFollowUps, who: DeviceActor, offer: int,
                       data: Any) -> Answer:  # fmt: skip
    await d.not_managed(who, offer)
    return await current(deps, d, offer, who)


async def _complete(deps: TeamsDeps, d: DeviceFollowUps, who: DeviceActor, offer: int,
                    data: Any) -> Answer:  # fmt: skip
    await d.complete(who, offer)
    return await current(deps, d, offer, who)


def _snooze(days: int) -> Callable[..., Coroutine[Any, Any, Answer]]:
    async def snooze(deps: TeamsDeps, d: DeviceFollowUps, who: DeviceActor, offer: int,
                     data: Any) -> Answer:  # fmt: skip
        await d.snooze(who, offer, days)
        return await current(deps, d, offer, who)

    return snooze


def register(app: AgentApplication[Any], deps: TeamsDeps) -> None:
    def route(verb: Verb, work: Callable[..., Coroutine[Any, Any, Answer]]) -> None:
        async def pressed(context: TurnContext, state: Any, data: Any) -> Answer:
            t = Translator(context.activity.locale)
            offer = offer_id(data)
            if deps.devices is None or offer is None:
                return factory.message(t("teams.out_of_date"))
            member = await people.member(context, deps)
            who = DeviceActor(member.id, member.email, PLATFORM, context.activity.locale or "en")
            devices = deps.devices

            async def guarded() -> Answer:
                try:
                    return await work(deps, devices, who, offer, data)
                except DevicesRefusedError as error:
                    return factory.message(t(error.key))  # the card stays as it is
                except AutotaskError as exc:
                    return factory.message(autotask_failure(exc, t))

            return await _answered(deps, guarded(), t)

        app.adaptive_card.action_execute(str(verb))(pressed)

    route(Verb.ATTACH, _attach)
    route(Verb.REVIEW, _review)
    route(Verb.REVIEW_SUBMIT, _submit)
    route(Verb.REVIEW_BACK, _back)
    route(Verb.NOT_MANAGED, _not_managed)
    route(Verb.COMPLETE, _complete)
    route(Verb.SNOOZE_DAY, _snooze(1))
    route(Verb.SNOOZE_WEEK, _snooze(7))
