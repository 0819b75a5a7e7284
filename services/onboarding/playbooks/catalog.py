"""The playbooks of ``PLAYBOOKS_DIR``: read, resolved against the tenant, and the valid ones offered.

``refresh`` re-reads the directory and resolves every file now; the process calls it at start-up
and on every reference-data refresh (so a renamed SLA in Autotask, or a file edited meanwhile,
shows within one refresh), and ``doctor`` and ``onboard-bot playbooks`` call it too. A playbook
with any problem is not offered; the others still are. The first use refreshes if nothing did.
Problems are logged when they appear or change, not on every refresh.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from services.autotask.errors import AutotaskError
from services.i18n import Translator
from services.onboarding.options import Option, OptionSources
from services.onboarding.playbooks.prefill import Playbook
from services.onboarding.playbooks.resolve import resolve_playbook
from services.onboarding.playbooks.source import (
    PlaybookFile,
    Problem,
    playbook_files,
    read_playbook,
)

logger = logging.getLogger(__name__)
LOG = Translator("en")


@dataclass(frozen=True)
class Status:
    """One playbook file and whether it is offered (no problems) or why not."""

    name: str
    file: str
    titles: dict[str, str]
    client_type: str | None
    problems: tuple[Problem, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.problems

    def title(self, locale: str = "en") -> str:
        return self.titles.get(locale) or self.titles.get("en") or self.name


class Playbooks:
    def __init__(self, directory: Path | None, sources: OptionSources) -> None:
        self.directory = directory
        self.sources = sources
        self._valid: dict[str, Playbook] = {}
        self._statuses: list[Status] | None = None
        self._lock = asyncio.Lock()

    async def refresh(self, *, log: bool = True) -> list[Status]:
        """Read every file and resolve it against the tenant now. If Autotask cannot be read,
        the error propagates and the playbooks offered so far stay offered. ``log=False`` when
        the caller prints the problems itself (``doctor``, ``onboard-bot playbooks``)."""
        async with self._lock:
            read = await asyncio.to_thread(_read_all, self.directory)
            statuses: list[Status] = []
            valid: dict[str, Playbook] = {}
            for path, file, problems in read:
                playbook = None
                if file is not None:
                    playbook, more = await resolve_playbook(file, self.sources)
                    problems = _by_line([*problems, *more])
                    playbook = None if problems else playbook
                statuses.append(_status(path, file, problems))
                if playbook is not None:
                    valid[playbook.name] = playbook
            statuses, valid = _same_titles(statuses, valid)
            if log:
                self._log(statuses)
            self._statuses, self._valid = statuses, valid
            return statuses

    async def ready(self) -> None:
        if self._statuses is None:
            await self.refresh()

    async def offered(self) -> list[Option]:
        """The valid playbooks as options, by title; none while Autotask cannot be read."""
        try:
            await self.ready()
        except AutotaskError:
            logger.warning("playbooks could not be checked against Autotask", exc_info=True)
        return [
            p.option() for p in sorted(self._valid.values(), key=lambda p: p.title().casefold())
        ]

    def find(self, name: str) -> Playbook | None:
        """A valid playbook by its name (the file name, which the answers hold)."""
        return self._valid.get(name)

    def statuses(self) -> list[Status]:
        return list(self._statuses or [])

    def _log(self, statuses: list[Status]) -> None:
        before = {s.name: s for s in self._statuses or []}
        for status in statuses:
            was = before.get(status.name)
            if not status.valid and (was is None or was.problems != status.problems):
                logger.warning("playbook %s is not offered:\n  %s", status.file,
                               "\n  ".join(p.text(LOG) for p in status.problems))  # fmt: skip
            elif status.valid and was is not None and not was.valid:
                logger.info("playbook %s is valid again and offered", status.file)
        if self._statuses is None:
            offered = [s.title() for s in statuses if s.valid]
            logger.info("playbooks offered: %s", ", ".join(offered) or "none")


def _read_all(
    directory: Path | None,
) -> list[tuple[Path, PlaybookFile | None, list[Problem]]]:
    if directory is None:
        return []
    return [(path, *read_playbook(path)) for path in playbook_files(directory)]


def _by_line(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: p.line or 0)


def _status(path: Path, file: PlaybookFile | None, problems: list[Problem]) -> Status:
    if file is None:
        return Status(path.stem, path.name, {}, None, tuple(problems))
    return Status(file.name, file.shown, file.titles, file.client_type, tuple(problems))


def _same_titles(
    statuses: list[Status], valid: dict[str, Playbook]
) -> tuple[list[Status], dict[str, Playbook]]:
    """Two playbooks with one title (or one name: ``gold.yaml`` and ``gold.yml``) would make
    ``playbook: <title>`` ambiguous: the later file is not offered."""
    seen: dict[str, str] = {}
    out: list[Status] = []
    for status in statuses:
        names = [status.name, *status.titles.values()]
        clash = next((seen[n.casefold()] for n in names if n.casefold() in seen), None)
        if clash is not None and status.valid:
            problem = Problem(status.file, None, "playbook.problem.same_title",
                              {"title": status.title(), "other": clash})  # fmt: skip
            status = Status(status.name, status.file, status.titles, status.client_type,
                            (problem,))  # fmt: skip
            valid.pop(status.name, None)
        for name in names:
            seen.setdefault(name.casefold(), status.file)
        out.append(status)
    return out, valid
