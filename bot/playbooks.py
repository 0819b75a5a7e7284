"""``onboard-bot playbooks``: each playbook of PLAYBOOKS_DIR, checked against the tenant now."""

from __future__ import annotations

from collections.abc import Callable

from bot.container import Container
from services.autotask.errors import AutotaskError
from services.i18n import Translator


async def list_playbooks(container: Container, t: Translator, echo: Callable[[str], None]) -> int:
    """Print every playbook with its status and, for those not offered, each problem with its
    file and line; 1 if any is not offered (or Autotask could not be read), else 0."""
    directory = container.settings.playbooks_dir
    try:
        statuses = await container.playbooks.refresh(log=False)
    except AutotaskError as exc:
        echo(f"{directory}: {exc}")
        return 1
    if not statuses:
        echo(t("playbook.status.none", directory=directory))
        return 0
    width = max(len(s.file) for s in statuses)
    for status in statuses:
        state = t("playbook.status.valid" if status.valid else "playbook.status.invalid")
        title = f"{status.title(t.locale)} ({status.client_type})" if status.titles else ""
        echo(f"{state:12} {status.file:{width}}  {title}".rstrip())
        for problem in status.problems:
            echo(f"{'':12} {problem.text(t)}")
    valid = sum(s.valid for s in statuses)
    echo(t("playbook.status.summary", valid=valid, total=len(statuses)))
    return 0 if valid == len(statuses) else 1
