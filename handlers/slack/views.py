"""View primitives every Slack feature builds on, with ``slack_sdk.models``.

``to_dict()`` of these models enforces Slack's own limits (title 24, private_metadata 3000, option
text 75, ...); ``checked`` adds the ones slack_sdk does not check (blocks per view).
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from handlers.slack.ids import Callback
from handlers.slack.metadata import ViewMeta
from handlers.slack.mrkdwn import MAX_VIEW_BLOCKS, cut, emoji
from services.i18n import Translator


def checked(view: View) -> View:
    if len(view.blocks) > MAX_VIEW_BLOCKS:
        raise ValueError(f"a view takes at most {MAX_VIEW_BLOCKS} blocks, got {len(view.blocks)}")
    view.to_dict()  # runs slack_sdk's validators now, not at send time
    return view


def modal(
    t: Translator,
    callback: Callback,
    blocks: list[Block],
    meta: ViewMeta | None,
    submit: str | None = None,
) -> View:
    return checked(
        View(
            type="modal",
            callback_id=callback,
            title=cut(t("slack.title"), 24),
            submit=cut(submit, 24) if submit else None,
            close=cut(t("slack.close"), 24),
            blocks=blocks,
            private_metadata=meta.dump() if meta else None,
            notify_on_close=True,
        )
    )


def loading_view(
    t: Translator, text_key: str = "slack.loading", meta: ViewMeta | None = None
) -> View:
    text = f"{emoji('hourglass_flowing_sand')} {t(text_key)}"
    return modal(t, Callback.LOADING, [SectionBlock(text=MarkdownTextObject(text=text))], meta)


def message_view(t: Translator, text: str, meta: ViewMeta | None = None) -> View:
    """A modal that only says something (mrkdwn ``text``, already formatted)."""
    return modal(
        t, Callback.DONE, [SectionBlock(text=MarkdownTextObject(text=cut(text, 3000)))], meta
    )
