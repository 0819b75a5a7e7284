"""The terminal front-end's prompts, driven by keystrokes through prompt_toolkit's pipe input."""

from __future__ import annotations

from pathlib import Path

from bot.container import build
from bot.settings import Settings
from services.store import repositories as repo
from services.store.migrate import upgrade
from tests.handlers.prompting import DOWN, ENTER, run_prompts


async def test_a_break_fix_client_onboarded_through_the_prompts(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, sandbox_state_file=tmp_path / "tenant.json",
                        database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")  # fmt: skip
    await upgrade(settings.database_url)
    keys = [
        "Delta" + ENTER,
        DOWN + ENTER,  # company: search, then pick the match
        DOWN + ENTER,  # client type: break/fix
        ENTER,  # convert to customer: yes (default)
        ENTER,
        ENTER,
        ENTER,
        ENTER,  # team (none), primary contact (none), portal (none), Taskfire (no)
        ENTER,
        ENTER,
        ENTER,
        ENTER,  # parent: search "", (none); children (none); bill parent (no)
        ENTER,
        ENTER,
        ENTER,
        ENTER,
        ENTER,
        ENTER,
        ENTER,  # billing: all left for the billing admin
        ENTER,  # break/fix SLA: none
        ENTER,
        DOWN + ENTER,
        "Delta T&M" + ENTER,
        "2027-01-01" + ENTER,
        "2027-12-31" + ENTER,  # a contract
        "n",  # no second contract
        "y",  # apply the plan
    ]
    async with build(settings) as container:
        code, out = await run_prompts(container, keys)
        assert container.sandbox is not None
        tenant = container.sandbox.tenant
        async with container.db.transaction() as session:
            drafts = await repo.list_drafts(session, platform="console", user_id=_user())
    assert code == 0, out
    assert "Plan for Delta Print Works" in out
    assert "Delta Print Works: onboarding applied" in out
    delta = next(
        c for c in tenant.table("Companies").values() if c["companyName"] == "Delta Print Works"
    )
    assert delta["companyType"] == 1
    assert [
        c["contractName"]
        for c in tenant.table("Contracts").values()
        if c["companyID"] == delta["id"]
    ] == ["Delta T&M"]
    assert drafts == []  # an applied onboarding leaves no draft behind


def _user() -> str:
    from handlers.console import _user

    return _user()
