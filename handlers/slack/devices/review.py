"""Review: a modal with each device's service as a select (its suggestion preselected; "skip"
leaves it for later). Submitting checks the choices (errors shown on the devices, nothing typed
lost), closes the modal and attaches: the DM shows "attaching", then the outcome. The preview
(units before -> after) is added to the modal once Autotask has been read, so the modal opens
within the trigger's 3 seconds."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from handlers.background import Background
from handlers.slack.deps import SlackDeps, received_at
from handlers.slack.devices.who import actor, clicked, offer_id, refused
from handlers.slack.ids import Action, Callback
from handlers.slack.mrkdwn import bold, cut, literal
from handlers.slack.state import block_values
from services.devices.cards import (
    AttachPreview,
    ChoicesInvalidError,
    DeviceActor,
    DevicesRefusedError,
    ReviewForm,
)
from services.i18n import Translator

logger = logging.getLogger(__name__)
background = Background()  # checks that outlive the ack, finished (and their failure logged)
DEVICE = "device_"  # block id prefix: device_<configuration item id>
SKIP = "skip"


def review_view(form: ReviewForm, t: Translator, preview: AttachPreview | None = None) -> View:
    skip = Option(value=SKIP, label=cut(t("devices.skip"), 75))
    options = [Option(value=str(s.service_id), label=cut(s.name, 75)) for s in form.services]
    blocks: list[Any] = [
        SectionBlock(text=MarkdownTextObject(
            text=t("devices.review_intro", company=bold(literal(form.company_name)))))
    ]  # fmt: skip
    if preview is not None:
        lines = [t("devices.preview_units", service=literal(u.service), before=u.before,
                   after=u.after) for u in preview.units]  # fmt: skip
        lines += [t("devices.preview_fixed", service=literal(s)) for s in preview.fixed_units]
        if lines:
            blocks.append(
                ContextBlock(elements=[MarkdownTextObject(text=cut("\n".join(lines), 3000))])
            )
    for device in form.devices[:90]:  # a modal holds 100 blocks
        chosen = next((o for o in options if o.value == str(device.service_id)), None)
        label = f"{device.name} ({device.kind})" if device.kind else device.name
        blocks.append(InputBlock(
            block_id=f"{DEVICE}{device.device_id}", label=cut(label, 2000), optional=True,
            element=StaticSelectElement(action_id=Action.DEVICES_CHOICE, options=[*options, skip],
                                        initial_option=chosen),
        ))  # fmt: skip
    return View(
        type="modal", callback_id=Callback.DEVICES_REVIEW, private_metadata=str(form.offer_id),
        title=cut(t("devices.review_title"), 24), submit=cut(t("devices.review_submit"), 24),
        close=cut(t("slack.close"), 24), blocks=blocks,
    )  # fmt: skip


def choices_of(values: dict[str, Any]) -> dict[int, int | None]:
    """device id -> service id (None: skip) from the modal's state; unchosen devices are left
    out, so the follow-up says which need a choice."""
    out: dict[int, int | None] = {}
    for block_id, value in values.items():
        device = block_id.removeprefix(DEVICE)
        if not block_id.startswith(DEVICE) or not device.isdigit() or value in (None, ""):
            continue
        if value == SKIP:
            out[int(device)] = None
        elif isinstance(value, str) and value.isdigit():
            out[int(device)] = int(value)
    return out


def register(app: Any, deps: SlackDeps) -> None:
    async def open_review(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        offer = clicked(body)
        if deps.devices is None or offer is None:
            return
        who = await actor(deps, client, body)
        t = Translator(who.locale)
        try:
            form = await deps.devices.review(who, offer)
        except DevicesRefusedError as error:
            await refused(deps, client, body, error)
            return
        opened: Any = await client.views_open(trigger_id=body["trigger_id"],
                                              view=review_view(form, t))  # fmt: skip
        try:  # the preview needs a fresh read of Autotask: added once it is there
            preview = await deps.devices.preview(who, offer)
        except DevicesRefusedError:
            return
        await client.views_update(view_id=opened["view"]["id"], hash=opened["view"].get("hash"),
                                  view=review_view(form, t, preview))  # fmt: skip

    async def submitted(
        ack: AsyncAck,
        body: dict[str, Any],
        view: dict[str, Any],
        client: AsyncWebClient,
        context: dict[str, Any],
    ) -> None:
        offer = offer_id(view.get("private_metadata"))
        devices = deps.devices
        if devices is None or offer is None:
            await ack()
            return
        choices = choices_of(block_values((view.get("state") or {}).get("values") or {}))
        first = next((b["block_id"] for b in (view.get("blocks") or [])
                      if str(b.get("block_id", "")).startswith(DEVICE)), None)  # fmt: skip

        async def checked() -> tuple[DeviceActor, DevicesRefusedError | None]:
            who = await actor(deps, client, body)
            try:
                await devices.validate(who, offer, choices)
            except DevicesRefusedError as error:
                return who, error
            return who, None

        # The answer (errors, or close) must reach Slack within 3 s of the request's arrival.
        checking = background.run(checked())
        await asyncio.wait({checking}, timeout=deps.left(received_at(context)))
        if not checking.done():
            t = Translator(deps.known_locale(body["user"]["id"]) or "en")
            if first is None:
                await ack()
            else:  # the modal stays open with every choice; a second submit finds it all read
                await ack(response_action="errors", errors={first: t("devices.check_slow")})
            return
        who, error = checking.result()
        t = Translator(who.locale)
        if isinstance(error, ChoicesInvalidError):
            await ack(response_action="errors", errors={
                f"{DEVICE}{device}": t(key) for device, key in error.issues.items()})  # fmt: skip
            return
        if error is not None:
            if first is None:
                await ack()
                await refused(deps, client, body, error)
            else:
                await ack(response_action="errors", errors={first: t(error.key)})
            return
        await ack()  # the modal closes; the DM shows the attach and its outcome
        try:
            await devices.attach(who, offer, choices)
        except DevicesRefusedError as late:
            await refused(deps, client, body, late)

    async def changed(ack: AsyncAck) -> None:
        await ack()  # a select changed inside the modal: nothing to redraw

    app.action(Action.DEVICES_REVIEW)(open_review)
    app.view(Callback.DEVICES_REVIEW)(submitted)
    app.action(Action.DEVICES_CHOICE)(changed)
