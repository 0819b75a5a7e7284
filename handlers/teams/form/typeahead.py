"""Typeahead of the form's ``Data.Query`` inputs (``application/search`` invokes).

The dataset names the draft and the field (``ids.dataset_of``); the service answers from its
cache within the invoke budget, or with nothing while the list loads for the next keystroke. Only
the draft's owner gets options: anyone else searching through a copied card gets none.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from microsoft_agents.hosting.core import AgentApplication, TurnContext
from microsoft_agents.hosting.core.app.adaptive_card.models import (
    AdaptiveCardSearchParams,
    AdaptiveCardSearchResult,
    Query,
)

from handlers.teams import people
from handlers.teams.deps import TeamsDeps
from handlers.teams.ids import DATASET_PREFIX, parse_dataset
from services.autotask.errors import AutotaskError

MAX_RESULTS = 50


def register(app: AgentApplication[Any], deps: TeamsDeps) -> None:
    async def search(
        context: TurnContext, state: Any, query: Query[AdaptiveCardSearchParams]
    ) -> list[AdaptiveCardSearchResult]:
        started = time.monotonic()
        found = parse_dataset(query.parameters.dataset)
        if found is None:
            return []
        draft_id, path = found
        try:
            # a look-up past the budget goes on, so the next keystroke finds the person cached
            looking = deps.background.run(people.actor(context, deps))
            actor = await asyncio.wait_for(asyncio.shield(looking), deps.invoke_budget)
        except (TimeoutError, AutotaskError):  # who may search is not known yet: nothing
            return []
        budget = max(0.0, deps.invoke_budget - (time.monotonic() - started))
        options = await deps.service.suggest(actor, draft_id, path, query.parameters.query_text,
                                             budget=budget)  # fmt: skip
        top = min(query.count or MAX_RESULTS, MAX_RESULTS)
        return [AdaptiveCardSearchResult(title=o.label[:200], value=str(o.value))
                for o in options[:top]]  # fmt: skip

    app.adaptive_card.search(re.compile(f"^{re.escape(DATASET_PREFIX)}"))(search)
