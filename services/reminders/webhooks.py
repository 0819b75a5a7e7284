"""This installation's Autotask company webhook: found or created, and kept matching REMINDER_ITEMS.

One webhook per installation, recognised by its URL (``{PUBLIC_URL}/autotask/webhooks/companies``)
or by a name derived from ``PUBLIC_URL``, so a restart, a second replica or ``webhooks sync`` reuse
it and never create another. It subscribes to updates of the Companies fields the readiness check
reads for the required items, and to nothing else: the callout only says "company N changed", the
reminder re-reads the company itself. Syncs are serialised by a named lock (a PostgreSQL
advisory lock shared by every replica), so replicas starting together create one webhook. Which fields a webhook may watch is the tenant's to say:
``isSupportedWebhookField`` in ``Companies/entityInformation/fields``, and their ids are the
``fieldID`` picklist of ``CompanyWebhookFields/entityInformation/fields`` (matched by label).
A field the tenant does not offer is reported, and the safety-net sweep then keeps its normal pace.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr
from sqlalchemy.exc import SQLAlchemyError

from services.autotask.client import AutotaskClient
from services.autotask.filters import field as where
from services.autotask.models import CompanyWebhook, CompanyWebhookField, Parent
from services.store import state
from services.store.db import Database
from services.store.named_locks import exclusive

logger = logging.getLogger(__name__)

CALLBACK_PATH = "/autotask/webhooks/companies"
DEACTIVATION_PATH = "/autotask/webhooks/companies/deactivated"
PERMISSION_FIX = (
    "allow webhooks in the API user's security level (Admin > Security Levels: can create "
    "webhooks, a webhook limit of at least 1) and query/create/update/delete on CompanyWebhooks"
)

# What the readiness check reads for each item: a change to any of these may complete it.
WATCHED_FIELDS: dict[str, tuple[str, ...]] = {
    "invoice_template": ("invoiceTemplateID",),
    "tax_region": ("taxRegionID", "isTaxExempt"),
    "tax_id": ("taxID", "isTaxExempt"),
    "billing_address": ("billToAddressToUse", "address1", "city", "parentCompanyID",
                        "billToCompanyLocationID", "billingAddress1", "billToCity", "billToZipCode"),
    "attention": ("billToAttention",),
}  # fmt: skip


def watched_fields(items: Iterable[str]) -> list[str]:
    """The Companies fields to watch for these REMINDER_ITEMS, each once, in a stable order."""
    return list(dict.fromkeys(name for item in items for name in WATCHED_FIELDS[item]))


@dataclass(frozen=True)
class WebhookConfig:
    """Where Autotask must post, and the shared secret it signs with (never logged)."""

    public_url: str
    secret: SecretStr = field(repr=False)

    @property
    def callback_url(self) -> str:
        return self.public_url.rstrip("/") + CALLBACK_PATH

    @property
    def deactivation_url(self) -> str:
        return self.public_url.rstrip("/") + DEACTIVATION_PATH

    @property
    def name(self) -> str:
        """Stable for one PUBLIC_URL, distinct between installations sharing a tenant (<= 50)."""
        digest = hashlib.sha256(self.callback_url.lower().encode()).hexdigest()[:10]
        return f"Onboarding bot reminders {digest}"


@dataclass
class WebhookReport:
    """What ``sync`` did, or what ``inspect`` found: a state and the fix for it."""

    state: str  # "ready", "partial", "stale", "deactivated", "missing", "not configured"
    webhook_id: int | None = None
    actions: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.state in ("ready", "partial")

    def describe(self) -> str:
        if self.state == "not configured":
            return "not configured"
        head = f"webhook {self.webhook_id}: {self.state}" if self.webhook_id else self.state
        parts = [head, *self.actions]
        if self.fields:
            parts.append(f"watching {len(self.fields)} Companies fields")
        if self.unsupported:
            parts.append("not offered by this tenant: " + ", ".join(self.unsupported))
        if self.duplicates:
            parts.append(
                "other webhooks with our name or URL: " + ", ".join(map(str, self.duplicates))
            )
        return "; ".join(parts)

    @property
    def fix(self) -> str:
        return {
            "not configured": "set PUBLIC_URL and AUTOTASK_WEBHOOK_SECRET so Autotask can tell the "
            "bot the moment an invoice setup is done",
            "missing": "run `onboard-bot webhooks sync` (also done at start-up)",
            "stale": "run `onboard-bot webhooks sync` (also done at start-up)",
            "deactivated": "make PUBLIC_URL reachable from Autotask over HTTPS (port 443), then run "
            "`onboard-bot webhooks sync` to reactivate it",
            "partial": "those fields are noticed by the safety-net sweep only",
        }.get(self.state, "")


class CompanyWebhookRegistry:
    """Registers, repairs and inspects the webhook; records what it found for every replica."""

    def __init__(
        self,
        *,
        client: AutotaskClient,
        db: Database,
        config: WebhookConfig | None,
        items: Sequence[str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client, self.db, self.config, self.clock = client, db, config, clock
        self.wanted = watched_fields(items)

    @property
    def name(self) -> str | None:
        return self.config.name if self.config else None

    async def sync(self) -> WebhookReport:
        """Make sure exactly our one active webhook exists and watches the wanted fields.

        One sync at a time per webhook name, in every replica: two replicas starting together
        would otherwise both find none and both create one."""
        if self.config is None:
            return WebhookReport("not configured")
        async with exclusive(self.db.engine, f"company-webhook-sync\0{self.config.name}"):
            return await self._sync()

    async def _sync(self) -> WebhookReport:
        offered = await self._offered()
        hooks = await self._ours()
        report = WebhookReport("ready", duplicates=[h.id for h in hooks[1:] if h.id is not None])
        if hooks:
            hook = hooks[0]
            assert hook.id is not None
            report.webhook_id = hook.id
            changes = self._differences(hook)
            if changes:
                await self.client.update("CompanyWebhooks", hook.id, changes)
                if changes.get("isActive") and not hook.is_active:
                    report.actions.append("reactivated")
                named = sorted(k for k in changes if k != "secretKey")
                if named:
                    report.actions.append("updated " + ", ".join(named))
        else:
            report.webhook_id = await self.client.create("CompanyWebhooks", self._desired())
            report.actions.append("created")
        await self._sync_fields(report.webhook_id, offered, report)
        report.fields = [n for n in self.wanted if n in offered]
        report.unsupported = [n for n in self.wanted if n not in offered]
        if report.unsupported:
            report.state = "partial"
        if report.duplicates:
            logger.warning("Autotask has other company webhooks with our name or URL: %s; this "
                           "one is kept, delete the others (DELETE /CompanyWebhooks/{id})",
                           report.duplicates)  # fmt: skip
        await self._record(report)
        return report

    async def inspect(self) -> WebhookReport:
        """What Autotask has now, without changing anything there (``doctor``); recorded here."""
        if self.config is None:
            return WebhookReport("not configured")
        offered = await self._offered()
        hooks = await self._ours()
        if not hooks:
            report = WebhookReport("missing")
        else:
            hook = hooks[0]
            assert hook.id is not None
            rows = await self._field_rows(hook.id)
            want = {offered[n]: n for n in self.wanted if n in offered}
            subscribed = {want[r.field_id] for r in rows
                          if r.is_subscribed_field and r.field_id in want}  # fmt: skip
            extra = [r for r in rows if r.field_id not in want]
            report = WebhookReport("ready", hook.id, duplicates=[h.id for h in hooks[1:] if h.id])
            report.fields = [n for n in self.wanted if n in subscribed]
            report.unsupported = [n for n in self.wanted if n not in offered]
            if not hook.is_active:
                report.state = "deactivated"
            elif (
                self._differences(hook, include_secret=False)
                or extra
                or len(subscribed) < len(want)
            ):
                report.state = "stale"
            elif report.unsupported:
                report.state = "partial"
        try:
            await self._record(report, synced=False)
        except SQLAlchemyError:  # e.g. `doctor` before the first migration: the report stands
            logger.debug("could not record the webhook's state in the database", exc_info=True)
        return report

    # ----- Autotask ----------------------------------------------------------------------------

    async def _offered(self) -> dict[str, int]:
        """Companies field name -> ``fieldID``, for the fields this tenant lets a webhook watch."""
        flags = {
            str(f.get("name")): f.get("isSupportedWebhookField")
            for f in await self.client.fields("Companies")
        }
        picklist = next(
            (f for f in await self.client.fields("CompanyWebhookFields")
             if str(f.get("name", "")).lower() == "fieldid"), {},
        )  # fmt: skip
        by_label = {
            _normal(str(v.get("label", ""))): int(v["value"])
            for v in picklist.get("picklistValues") or []
            if v.get("isActive", True) and str(v.get("value", "")).isdigit()
        }
        return {
            name: by_label[_normal(name)]
            for name, supported in flags.items()
            if supported is not False and _normal(name) in by_label
        }

    async def _ours(self) -> list[CompanyWebhook]:
        """Our webhook first (the one at our URL, an active one, the oldest), then any twins."""
        assert self.config is not None
        config = self.config
        hooks = await self.client.query_models(CompanyWebhook, [
            where("webhookUrl").eq(config.callback_url) | where("name").eq(config.name)
        ])  # fmt: skip
        return sorted(
            (h for h in hooks if h.id is not None),
            key=lambda h: (h.webhook_url != config.callback_url, not h.is_active, h.id),
        )

    async def _field_rows(self, webhook_id: int) -> list[CompanyWebhookField]:
        return await self.client.query_models(
            CompanyWebhookField, [where("webhookID").eq(webhook_id)]
        )

    async def _sync_fields(
        self, webhook_id: int, offered: dict[str, int], report: WebhookReport
    ) -> None:
        """Subscribe the wanted fields, remove the rest (rows someone added by hand included)."""
        parent = Parent("CompanyWebhooks", webhook_id, "Fields")
        want = {offered[n]: n for n in self.wanted if n in offered}
        rows = await self._field_rows(webhook_id)
        have = {r.field_id for r in rows}
        added = [name for field_id, name in want.items() if field_id not in have]
        for field_id in (f for f in want if f not in have):
            await self.client.create("CompanyWebhookFields", {
                "webhookID": webhook_id, "fieldID": field_id, "isSubscribedField": True,
                "isDisplayAlwaysField": False,
            }, parent=parent)  # fmt: skip
        removed = 0
        for row in rows:
            if row.id is None:
                continue
            if row.field_id not in want:
                await self.client.delete("CompanyWebhookFields", row.id, parent=parent)
                removed += 1
            elif not row.is_subscribed_field:
                await self.client.update("CompanyWebhookFields", row.id,
                                         {"isSubscribedField": True}, parent=parent)  # fmt: skip
                added.append(want[row.field_id])
        if added:
            report.actions.append("subscribed " + ", ".join(added))
        if removed:
            report.actions.append(f"removed {removed} other field(s)")

    def _desired(self) -> dict[str, Any]:
        assert self.config is not None
        return {
            "name": self.config.name,
            "webhookUrl": self.config.callback_url,
            "deactivationUrl": self.config.deactivation_url,
            "secretKey": self.config.secret.get_secret_value(),
            "isActive": True,
            "isSubscribedToCreateEvents": False,
            "isSubscribedToUpdateEvents": True,
            "isSubscribedToDeleteEvents": False,
            "sendThresholdExceededNotification": False,
        }

    def _differences(self, hook: CompanyWebhook, *, include_secret: bool = True) -> dict[str, Any]:
        """The PATCH that makes ``hook`` ours. Autotask does not hand secret keys back (we
        assume), so an unreadable key is set again: a rotated AUTOTASK_WEBHOOK_SECRET then lands."""
        current = hook.model_dump(by_alias=True)
        desired = self._desired()
        secret = desired.pop("secretKey")
        changes = {k: v for k, v in desired.items() if current.get(k) != v}
        if include_secret and hook.secret_key != secret:
            changes["secretKey"] = secret
        return changes

    async def _record(self, report: WebhookReport, *, synced: bool = True) -> None:
        if self.config is None:
            return
        now = self.clock()
        values: dict[str, Any] = {
            "webhook_id": report.webhook_id, "status": report.state, "fields": report.fields,
            "unsupported": report.unsupported,
        }  # fmt: skip
        if synced:
            values["synced_at"] = now
        if report.state in ("ready", "partial"):
            values["deactivated_at"] = None
        elif report.state == "deactivated":
            values["deactivated_at"] = now
        async with self.db.transaction() as session:
            before = await state.webhook_state(session, name=self.config.name)
            if report.state == "deactivated" and before and before.deactivated_at:
                values.pop("deactivated_at")  # keep when it was first seen
            await state.save_webhook_state(session, name=self.config.name, **values)


def _normal(label: str) -> str:
    """``invoiceTemplateID`` and ``Invoice Template`` alike: lower-case letters and digits, no
    trailing ``id``."""
    text = re.sub(r"[^a-z0-9]", "", label.lower())
    return text[:-2] if text.endswith("id") and len(text) > 2 else text
