"""A playbook file against the tenant: its labels as this tenant's ids, or why not.

The labels go through the answers files' own resolution (``services.onboarding.answers``): the
same matcher, so a playbook is valid exactly when an answers file with the same words would be.
A label that matches nothing is reported on its line with the closest labels the tenant has
(``difflib``). Then the filled answers of a sample client go through the form's own rules (an end
before its start, a tax ID with tax exemption...), reported on the playbook's lines too.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from datetime import date
from typing import Any

from services.onboarding import answers as labelled
from services.onboarding.options import OptionSources
from services.onboarding.playbooks.prefill import Client, Playbook, ServiceRule
from services.onboarding.playbooks.source import PlaybookFile, Problem, ServiceSpec, dotted
from services.onboarding.request import validate

DEVICE_TYPES = "picklist:ci_type"
CLOSEST = 3
SAMPLE_DAY = date(2027, 1, 15)
SAMPLE = Client(0, "Example Client", contacts=1)


async def resolve_playbook(
    file: PlaybookFile, sources: OptionSources
) -> tuple[Playbook | None, list[Problem]]:
    answers, issues = await labelled.resolve(file.answers, sources)
    problems: list[Problem] = []
    for issue in issues:
        for miss in issue.params.get("misses", []):
            at = (issue.question, *miss.at)
            problems.append(await _unknown(file, at, miss.value, miss.source, sources))
    rules = [rule for spec in file.services
             if (rule := await _service(file, spec, sources, problems)) is not None]  # fmt: skip
    playbook = Playbook(file.name, file.path, file.titles, answers, tuple(rules))
    if file.titles.get("en") and answers.get("client_type"):
        problems += _rules(file, playbook)
    return (None, problems) if problems else (playbook, [])


async def _service(
    file: PlaybookFile, spec: ServiceSpec, sources: OptionSources, problems: list[Problem]
) -> ServiceRule | None:
    at = ("services", spec.name)
    service = labelled.match(await sources.every("services", {}), spec.name)
    if service is None:
        problems.append(await _unknown(file, at, spec.name, "services", sources))
    types: list[int] = []
    if spec.per_device:
        known = await sources.every(DEVICE_TYPES, {})
        for i, label in enumerate(spec.per_device):
            found = labelled.match(known, label)
            if found is None:
                where = (*at, "per_device", i) if len(spec.per_device) > 1 else (*at, "per_device")
                problems.append(await _unknown(file, where, label, DEVICE_TYPES, sources))
            else:
                types.append(int(found))
    if service is None or len(types) != len(spec.per_device):
        return None
    return ServiceRule(str(service), spec.name, spec.units, tuple(types), spec.per_device,
                       spec.per_user, spec.attach)  # fmt: skip


async def _unknown(
    file: PlaybookFile, at: tuple[str | int, ...], value: Any, source: str, sources: OptionSources
) -> Problem:
    # People are "Name <e-mail>": compare with the name and the e-mail too, show the label.
    labels: dict[str, str] = {}
    for option in await sources.every(source, {}):
        for label in (option.label, *(t for _, t in option.translations)):
            name, _, email = label.partition(" <")
            for text in filter(None, (label, name, email.rstrip(">"))):
                labels.setdefault(text, option.label)
    # the close ones, else the least far: a reader always gets somewhere to look
    near = difflib.get_close_matches(str(value), labels, n=CLOSEST, cutoff=0.6)
    near = near or difflib.get_close_matches(str(value), labels, n=CLOSEST, cutoff=0)
    closest = list(dict.fromkeys(labels[n] for n in near))
    return Problem(file.shown, file.line(*at), "playbook.problem.unknown_label",
                   {"at": dotted(at), "value": str(value), "closest": "; ".join(closest) or "-"},
                   {"list": "playbook.list." + source.replace(":", "_")})  # fmt: skip


def _rules(file: PlaybookFile, playbook: Playbook) -> list[Problem]:
    """The form's own rules on what the playbook gives a sample client, on the playbook's lines."""
    sample = {**playbook.fill(SAMPLE, SAMPLE_DAY).answers, "company": SAMPLE.company_id}
    _, issues = validate(sample)
    given: Mapping[str, Any] = {
        **playbook.answers,
        **({"services": 1} if playbook.services else {}),
    }
    return [
        Problem(file.shown, file.line(*i.loc), "playbook.problem.rule",
                {"at": dotted(i.loc), **i.params}, {"error": i.key})
        for i in issues
        # "required" only follows from another problem (an end whose start is wrong)
        if str(i.loc[0]) in given and i.key != "errors.required"
    ]  # fmt: skip
