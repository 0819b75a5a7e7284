"""Which contract service a new device most likely belongs to.

The rule (``DEVICE_SERVICE_RULES``): a list of ``<configuration item type>=<word>|<word>...``
separated by ``;``. A device of that type is suggested the contract's first service (by name)
whose name contains the first word that any service name contains (case-insensitive); a device
whose type has no rule, or whose words match no service, has no suggestion and must be chosen in
Review. The default: workstations to a "Workstation"/"Desktop"/"Endpoint" service, servers to
"Server", network devices to "Firewall"/"Network"/"Switch"/"Router", printers to "Printer".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.devices.cards import ServiceChoice

DEFAULT_RULES = (
    "Workstation=Workstation|Desktop|Endpoint; Server=Server; "
    "Network Device=Firewall|Network|Switch|Router; Printer=Printer"
)


@dataclass(frozen=True)
class ServiceRules:
    words: dict[str, tuple[str, ...]]  # configuration item type label (casefolded) -> words

    @classmethod
    def parse(cls, text: str) -> ServiceRules:
        """``"Workstation=Workstation|Desktop; Server=Server"``; raises ``ValueError`` on a rule
        without ``=`` or without words, naming it (the setting's error at start-up)."""
        words: dict[str, tuple[str, ...]] = {}
        for part in text.split(";"):
            if not part.strip():
                continue
            kind, sep, names = part.partition("=")
            found = tuple(w.strip() for w in names.split("|") if w.strip())
            if not sep or not kind.strip() or not found:
                raise ValueError(
                    f"DEVICE_SERVICE_RULES: {part.strip()!r} is not <type>=<word>|<word>..."
                )
            words[kind.strip().casefold()] = found
        return cls(words)

    def suggest(self, kind: str | None, services: Iterable[ServiceChoice]) -> ServiceChoice | None:
        """The service suggested for a device of type ``kind`` among ``services``."""
        ordered = sorted(services, key=lambda s: (s.name.casefold(), s.service_id))
        for word in self.words.get((kind or "").strip().casefold(), ()):
            wanted = word.casefold()
            for service in ordered:
                if wanted in service.name.casefold():
                    return service
        return None
