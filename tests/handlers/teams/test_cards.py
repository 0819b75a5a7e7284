"""Cards are pure functions of data: every one renders in both languages with Teams' own rules."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from handlers.teams import cards
from handlers.teams.ids import company_text
from services.i18n import Translator, catalogue
from tests.teams_stub import card_problems

ALL_CARDS = {
    "onboard": lambda t: cards.onboard_card(t, "Acme Dental"),
    "onboard-any": lambda t: cards.onboard_card(t, None),
    "notice": lambda t: cards.notice_card(t, t("teams.still_working")),
    "refusal": lambda t: cards.refusal_card(t, "visitor@elsewhere.example"),
    "no-email": lambda t: cards.refusal_card(t, None),
}


@pytest.mark.parametrize("locale", ["en-US", "es-ES"])
@pytest.mark.parametrize("name", sorted(ALL_CARDS))
def test_every_card_renders_in_both_languages_as_teams_accepts_it(name: str, locale: str) -> None:
    card = ALL_CARDS[name](Translator(locale))
    assert card_problems(card) == []
    rendered = json.dumps(card, ensure_ascii=False)
    assert "teams." not in rendered  # no catalogue key left untranslated


def test_teams_strings_carry_no_slack_markup() -> None:
    slack_markup = re.compile(r"\*[^*\s][^*]*\*|<[^>]*\|[^>]*>|:[a-z_]+:|`|<@|<!")
    for locale in ("en", "es"):
        for key, value in catalogue(locale).items():
            if key.startswith("teams."):
                assert not slack_markup.search(value), (locale, key, value)


def test_names_from_autotask_are_shown_as_typed_never_as_markdown() -> None:
    name = "**Acme** [click](https://evil.example)"
    card = cards.onboard_card(Translator("en"), name)
    runs: list[dict[str, Any]] = [run for block in card["body"] for run in block["inlines"]]
    assert any(run["type"] == "TextRun" and name in run["text"] for run in runs)
    assert all(block["type"] == "RichTextBlock" for block in card["body"])  # TextRun: no markdown


@pytest.mark.parametrize(
    ("text", "company"),
    [("onboard", ""), ("onboard Acme Dental", "Acme Dental"), ("  ONBOARD  acme ", "acme"),
     ("/onboard Acme", "Acme"), ("onboarding", None), ("please onboard Acme", None)],
)  # fmt: skip
def test_the_command_and_its_company(text: str, company: str | None) -> None:
    assert company_text(text) == company
