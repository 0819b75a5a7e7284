"""``onboard-bot doctor``: is this installation ready to onboard a client, and if not, what to fix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from bot.container import Container
from services.autotask.errors import AutotaskError, Failure, PermissionDeniedError
from services.directory import Directory
from services.i18n import Translator
from services.reminders.webhooks import PERMISSION_FIX
from services.store import state
from services.store.engine import describe, ping

# What the onboarding writes, and the rights it needs on each entity.
WRITES: dict[str, tuple[str, ...]] = {
    "Companies": ("update",),
    "Contacts": ("update",),
    "ClientPortalUsers": ("create", "update"),
    "CompanyTeams": ("create", "delete"),
    "Contracts": ("create", "update"),
    "ContractServices": ("create",),
    "ConfigurationItems": ("update",),
    "CompanyNotes": ("create",),
    "CompanyToDos": ("create", "update"),
}


ZONE_FIX = "check AUTOTASK_USERNAME, or set AUTOTASK_BASE_URL to your zone's URL"
CREDENTIALS_FIX = ("check AUTOTASK_SECRET and AUTOTASK_INTEGRATION_CODE (API tracking identifier) "
                   "of the API user in Admin > Resources")  # fmt: skip
FIXES: dict[Failure, str] = {
    Failure.UNREACHABLE: "Autotask did not answer: check that this machine reaches the zone's "
    "host over HTTPS (network, proxy, firewall, AUTOTASK_BASE_URL), then run doctor again",
    Failure.BUSY: "Autotask is busy (its thread limit or the tenant's hourly budget): run doctor "
    "again in a few minutes",
    Failure.PERMISSION: "give the API user a security level with API access",
    Failure.CREDENTIALS: CREDENTIALS_FIX,
    Failure.REFUSED: "Autotask refused the request (its text is above): run doctor again later; "
    "if it persists, have an Autotask admin check the API user and its security level",
}


def autotask_fix(exc: AutotaskError, *, credentials: str = CREDENTIALS_FIX) -> str:
    """The fix for what actually failed (``errors.Failure``): a network error is no reason to
    touch the API user's security level."""
    return credentials if exc.failure == Failure.CREDENTIALS else FIXES[exc.failure]


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False

    @property
    def status(self) -> str:
        if not self.ok:
            return "FAIL"
        return "WARN" if self.warning else "PASS"


async def run_checks(container: Container) -> list[Check]:
    checks: list[Check] = []
    settings = container.settings
    at = container.autotask
    if settings.autotask_mode == "sandbox":
        checks.append(Check("Autotask mode", True, "built-in sandbox (no AUTOTASK_* credentials)",
                            "set AUTOTASK_USERNAME, AUTOTASK_SECRET and AUTOTASK_INTEGRATION_CODE "
                            "to use your tenant", warning=True))  # fmt: skip
    else:
        checks.append(Check("Autotask mode", True, f"live tenant as {settings.autotask_username}"))

    try:
        zone = await at.zone()
        checks.append(Check("Autotask zone", True, f"{zone.name} {zone.url}"))
    except AutotaskError as exc:
        fix = autotask_fix(exc, credentials=ZONE_FIX)
        checks.append(Check("Autotask zone", False, str(exc), fix))
        return [*checks, await _database(container)]

    try:
        infos = {entity: await at.entity_info(entity) for entity in WRITES}
        checks.append(Check("Autotask credentials", True, "accepted"))
    except AutotaskError as exc:
        checks.append(Check("Autotask credentials", False, str(exc), autotask_fix(exc)))
        return [*checks, await _database(container)]

    for entity, rights in WRITES.items():
        info = infos[entity]
        missing = [r for r in rights if not info.get(f"can{r.capitalize()}")]
        checks.append(
            Check(f"Autotask {entity}", not missing,
                  "can " + ", ".join(rights) if not missing else "cannot " + ", ".join(missing),
                  "" if not missing else f"allow {', '.join(missing)} on {entity} in the API "
                  "user's security level (and enable the Contracts module for contracts)")
        )  # fmt: skip

    try:
        reading = await at.threshold.current(force=True)
        pct = reading.ratio * 100
        detail = f"{reading.used} of {reading.limit} calls this hour ({pct:.0f} %)"
        if reading.ratio >= at.threshold.pause_ratio:
            checks.append(Check("Autotask hourly budget", False, detail,
                                "another integration is using the tenant's budget; bulk work "
                                "pauses until it drains"))  # fmt: skip
        else:
            checks.append(Check("Autotask hourly budget", True, detail,
                                warning=reading.ratio >= at.threshold.slow_ratio))  # fmt: skip
    except AutotaskError as exc:
        checks.append(Check("Autotask hourly budget", False, str(exc), autotask_fix(exc)))

    return [
        *checks,
        *await playbook_checks(container),
        await _database(container),
        *await _slack(container),
        *await _teams(container),
        *await _webhook(container),
    ]


async def _webhook(container: Container) -> list[Check]:
    """ready, partial, stale, deactivated, missing or not configured, with the fix for each."""
    settings, registry = container.settings, container.webhooks
    if registry is None or registry.config is None:
        detail = (f"not configured: finished invoice setups are noticed by the sweep every "
                  f"{settings.reminder_sweep_minutes:g} min")  # fmt: skip
        fix = "set PUBLIC_URL and AUTOTASK_WEBHOOK_SECRET to hear of them within seconds"
        return [Check("Autotask webhook", True, detail, fix, warning=True)]
    checks: list[Check] = []
    url = urlsplit(registry.config.callback_url)
    if settings.autotask_mode == "live" and (url.scheme != "https" or url.port not in (None, 443)):
        checks.append(Check("Autotask webhook URL", False, registry.config.callback_url,
                            "Autotask posts callouts to HTTPS on port 443: serve the bot behind "
                            "HTTPS and set PUBLIC_URL to that address"))  # fmt: skip
    try:
        info = await container.autotask.entity_info("CompanyWebhooks")
        cannot = [r for r in ("query", "create", "update") if not info.get(f"can{r.capitalize()}")]
        if cannot:
            return [*checks, Check("Autotask webhook", False, "the API user cannot "
                                   + ", ".join(cannot) + " CompanyWebhooks", PERMISSION_FIX)]  # fmt: skip
        report = await registry.inspect()
    except PermissionDeniedError as exc:
        return [*checks, Check("Autotask webhook", False, str(exc), PERMISSION_FIX)]
    except AutotaskError as exc:
        return [*checks, Check("Autotask webhook", False, str(exc), autotask_fix(exc))]
    detail = report.describe()
    try:
        async with container.db.transaction() as session:
            row = await state.webhook_state(session, name=registry.config.name)
        health = await container.safety_net.health() if container.safety_net else None
    except SQLAlchemyError:  # not migrated yet: the Database check says what to do
        row = health = None
    if row is not None and row.last_callback_at is not None:
        minutes = (datetime.now(UTC) - row.last_callback_at).total_seconds() / 60
        detail += f"; last callout {minutes:.0f} min ago"
    if health is not None and report.ok:
        detail += f"; {health.reason}"
    checks.append(Check("Autotask webhook", report.ok, detail, report.fix,
                        warning=report.state == "partial" or bool(health and not health.healthy)))  # fmt: skip
    return checks


async def playbook_checks(container: Container) -> list[Check]:
    """Each playbook of PLAYBOOKS_DIR resolved against the tenant: offered, or why not."""
    directory = container.settings.playbooks_dir
    try:
        statuses = await container.playbooks.refresh(log=False)
    except AutotaskError as exc:
        return [Check("Playbooks", False, f"could not be checked: {exc}", "retry in a minute")]
    if not statuses:
        return [Check("Playbooks", True, f"none in {directory}", "copy docs/examples/playbooks/"
                      "*.yaml there and edit them to your offers (PLAYBOOKS_DIR)", warning=True)]  # fmt: skip
    return [
        Check(f"Playbook {s.name}", s.valid,
              f"{s.title()} ({s.client_type})" if s.valid
              else f"{s.file}: not offered ({len(s.problems)} problem(s))",
              "" if s.valid else "\n".join(p.text(EN) for p in s.problems))
        for s in statuses
    ]  # fmt: skip


EN = Translator("en")  # doctor speaks English
SLACK_SCOPES = ("commands", "chat:write", "im:write", "users:read", "users:read.email")


async def _slack(container: Container) -> list[Check]:
    settings = container.settings
    if settings.slack_mode == "off":
        fix = "set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to serve Slack"
        return [Check("Slack", True, "not configured (local mode)", fix, warning=True)]
    from bot.chat import web_client

    try:
        reply = await web_client(settings).auth_test()
    except SlackApiError as exc:
        fix = "copy the Bot User OAuth Token of the installed app into SLACK_BOT_TOKEN"
        return [Check("Slack token", False, f"auth.test: {exc.response.get('error')}", fix)]
    except Exception as exc:
        return [
            Check("Slack token", False, f"auth.test: {type(exc).__name__}", "check SLACK_API_URL")
        ]
    granted = {
        s.strip() for s in (reply.headers.get("x-oauth-scopes") or "").split(",") if s.strip()
    }
    wanted = [
        *SLACK_SCOPES,
        *(
            ["usergroups:read"]
            if Directory(container.reference, settings.onboarders).groups
            else []
        ),
    ]
    missing = [s for s in wanted if s not in granted]
    detail = ", ".join(sorted(granted)) if not missing else "missing " + ", ".join(missing)
    fix = "" if not missing else "add the scopes in manifest.yml, then reinstall the app"
    return [
        Check("Slack token", True, f"team {reply.get('team')} as bot {reply.get('user_id')}"),
        Check("Slack scopes", not missing, detail, fix),
    ]


async def _teams(container: Container) -> list[Check]:
    from bot.teams_doctor import teams_checks  # imports Check from here

    return await teams_checks(container.settings)


async def _database(container: Container) -> Check:
    url = describe(container.settings.database_url)
    try:
        await ping(container.engine)
        return Check("Database", True, url)
    except Exception as exc:
        return Check("Database", False, f"{url}: {type(exc).__name__}: {exc}".splitlines()[0],
                     "start the database or fix DATABASE_URL")  # fmt: skip


def render(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = [f"{'':4}  {'check':{width}}  detail"]
    for c in checks:
        lines.append(f"{c.status:4}  {c.name:{width}}  {c.detail}")
        if c.fix and (not c.ok or c.warning):
            for i, fix in enumerate(c.fix.splitlines()):
                lines.append(f"{'':4}  {'':{width}}  {'->' if i == 0 else '  '} {fix}")
    return "\n".join(lines)
