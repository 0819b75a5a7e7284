"""At LOG_LEVEL=DEBUG no log record of a whole onboarding carries a Client Portal password or a
secret: not the password DM's body (slack_sdk logs every Web API request at DEBUG), not a token,
the signing secret, Autotask's secret or integration code, the database password, the webhook
secret or the Teams app password. Checked on the records themselves (nothing logs them) and on the
lines the process writes (redacted whatever logged them)."""

from __future__ import annotations

import re
from pathlib import Path

from services.autotask.sandbox import SANDBOX_INTEGRATION_CODE, SANDBOX_SECRET
from tests.log_capture import everything_logged
from tests.onboarding_support import company_id, contacts_of, reset_database
from tests.slack_harness import open_form, running_bot, submit
from tests.slack_stub import SIGNING_SECRET, checkbox, multi, radio, select, state, static

BOT_TOKEN = "xoxb-test-token"  # the harness's
DB_PASSWORD = "db-pass-never-log-me"
WEBHOOK_SECRET = "webhook-secret-never-log-me-0123"
TEAMS_PASSWORD = "teams-app-password-never-log-me"
SECRETS = [BOT_TOKEN, SIGNING_SECRET, SANDBOX_SECRET, SANDBOX_INTEGRATION_CODE, DB_PASSWORD,
           WEBHOOK_SECRET, TEAMS_PASSWORD]  # fmt: skip
PASSWORD = re.compile(r"`([^`]{20})`")  # a password in the DM, as a code span


async def test_a_whole_slack_onboarding_at_debug_logs_no_password_and_no_secret(
    tmp_path: Path, postgres_url: str
) -> None:
    await reset_database(postgres_url)
    url = postgres_url.replace("postgres@", f"postgres:{DB_PASSWORD}@", 1)  # trust auth: any
    with everything_logged(SECRETS) as (records, output):
        async with running_bot(
            tmp_path, url, public_url="https://bot.example.com",
            autotask_webhook_secret=WEBHOOK_SECRET,
            teams_app_id="3f1c9a52-7d4e-4b8a-9c21-5e6f7a8b9c0d", teams_app_password=TEAMS_PASSWORD,
            teams_tenant_id="contoso.onmicrosoft.com",
        ) as slack:  # fmt: skip
            tenant = slack.sandbox.tenant
            delta = company_id(tenant, "Delta Print Works")
            view = await open_form(slack, "Delta Print Works")
            view = await submit(slack, view, state(company=select(delta),
                                                   client_type=radio("break_fix"),
                                                   convert_to_customer=checkbox(True)))  # fmt: skip
            portal = [c["id"] for c in contacts_of(tenant, delta) if c.get("emailAddress")][:2]
            view = await submit(slack, view, state(portal_contacts=multi(portal),
                                                   portal_security_level=static(1)))  # fmt: skip
            for _ in range(3):
                view = await submit(slack, view, {"values": {}})
            assert view["callback_id"] == "onboard_review"
            await slack.payload(slack.view_submission(view, {"values": {}}))
            dm = await slack.stub.wait_until(
                "chat.postMessage", lambda a: "Client Portal password" in str(a.get("text"))
            )
            await slack.stub.wait_until("chat.update", lambda a: "· applied" in str(a["blocks"]))
            await slack.settle()
    passwords = PASSWORD.findall(dm.args["text"])
    assert len(passwords) == 2, dm.args["text"]
    raw, written = records.text(), output.getvalue()
    assert len(records.records) > 100  # DEBUG really was on: Autotask calls, Bolt, the run
    assert any(r.name.startswith("services.autotask") for r in records.records)
    for value in [*passwords, *SECRETS]:
        assert value not in raw, value
        assert value not in written, value
