"""Terminal front-end of the device follow-up: ``onboard-bot devices [COMPANY] [--apply]``.

Lists the devices still waiting for a decision, grouped by suggested service, with the preview of
attaching them as suggested (a fresh read of Autotask: devices, services, units before -> after);
``--apply`` attaches them through the same runner as every onboarding and prints the outcome. The
person at the terminal holds the credentials, so they may act on every follow-up."""

from __future__ import annotations

import getpass
from collections.abc import Callable

from services.devices.cards import (
    AttachOutcome,
    AttachPreview,
    DeviceActor,
    DevicesRefusedError,
    PendingDevices,
)
from services.devices.service import DeviceFollowUps
from services.i18n import Translator

Echo = Callable[[str], None]


def operator(locale: str) -> DeviceActor:
    return DeviceActor(getpass.getuser(), None, "console", locale, local=True)


def render_pending(pending: PendingDevices, t: Translator) -> list[str]:
    lines = [t("devices.title", n=len(pending.devices), company=pending.company_name,
               contract=pending.contract_name)]  # fmt: skip
    groups: dict[str | None, list[str]] = {}
    for d in pending.devices:
        kind = f" ({d.kind})" if d.kind else ""
        groups.setdefault(d.service, []).append(f"    {d.name}{kind}")
    for service, names in sorted(groups.items(), key=lambda g: (g[0] is None, g[0] or "")):
        head = t("devices.group", service=service) if service else t("devices.no_suggestion")
        lines += [f"  {head}", *names]
    return lines


def render_preview(preview: AttachPreview, company: str, t: Translator) -> list[str]:
    lines = [f"  {t('devices.preview', n=len(preview.attach), company=company)}"]
    lines += [f"    {t('step.device', device=d.name, service=d.service)}" for d in preview.attach]
    lines += [f"    {t('devices.preview_units', service=u.service, before=u.before, after=u.after)}"
              for u in preview.units]  # fmt: skip
    lines += [f"    {t('devices.preview_fixed', service=s)}" for s in preview.fixed_units]
    lines += [f"    {t('devices.outcome.skipped', device=s.name, reason=t('devices.skip.' + s.reason))}"
              for s in preview.skipped]  # fmt: skip
    return lines


def render_outcome(outcome: AttachOutcome, t: Translator) -> list[str]:
    lines: list[str] = []
    if outcome.attached:
        names = ", ".join(f"{d.name} -> {d.service}" for d in outcome.attached)
        lines.append(t("devices.outcome.attached", n=len(outcome.attached), devices=names))
    lines += [t("devices.outcome.units", service=u.service, before=u.before, after=u.after)
              for u in outcome.units]  # fmt: skip
    lines += [t("devices.outcome.skipped", device=s.name, reason=t("devices.skip." + s.reason))
              for s in outcome.skipped]  # fmt: skip
    if outcome.status == "failed":
        lines.append(t("devices.outcome.failed", step=outcome.failed_step or "-",
                       error=outcome.error or "-"))  # fmt: skip
        lines.append(t("devices.retry_terminal"))
    return [f"  {line}" for line in lines]


async def review_devices(
    devices: DeviceFollowUps, company: str | None, *, apply: bool, t: Translator, echo: Echo
) -> int:
    """Print the pending devices and their preview; attach them as suggested with ``apply``.
    0 when everything asked for went through, 1 when an attach failed or was refused."""
    actor = operator(t.locale)
    pending = await devices.pending(actor, company)
    if not pending:
        echo(t("devices.none_pending"))
        return 0
    status = 0
    for group in pending:
        assert group.offer_id is not None
        echo("\n".join(render_pending(group, t)))
        try:
            preview = await devices.preview(actor, group.offer_id)
            echo("\n".join(render_preview(preview, group.company_name, t)))
            if apply and preview.attach:
                outcome = await devices.attach(actor, group.offer_id)
                echo("\n".join(render_outcome(outcome, t)))
                status |= outcome.status != "applied"
        except DevicesRefusedError as error:
            echo(f"  {t(error.key)}")
            status = 1
    return status
