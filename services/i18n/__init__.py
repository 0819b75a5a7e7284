"""Message catalogues (English, Spanish) and a small translator.

The Spanish catalogue uses the words of Autotask's own Spanish UI (the seed page): "Equipo de
empresa", "Contacto principal", "Portal del cliente", "Región impositiva", "Atención"...
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

LOCALES = ("en", "es")
DEFAULT_LOCALE = "en"


@cache
def catalogue(locale: str) -> dict[str, str]:
    text = resources.files(__package__).joinpath(f"{locale}.json").read_text(encoding="utf-8")
    data: dict[str, str] = json.loads(text)
    return data


def normalize_locale(value: str | None) -> str:
    """``es-ES``, ``es_MX``, ``ES`` -> ``es``; anything we do not speak -> English."""
    base = (value or "").replace("_", "-").split("-")[0].lower()
    return base if base in LOCALES else DEFAULT_LOCALE


class Translator:
    def __init__(self, locale: str | None = None) -> None:
        self.locale = normalize_locale(locale)
        self._messages = catalogue(self.locale)
        self._fallback = catalogue(DEFAULT_LOCALE)

    def __call__(self, key: str, **params: Any) -> str:
        template = self._messages.get(key) or self._fallback.get(key)
        if template is None:
            return key  # visible in the UI and caught by the catalogue test, never a crash
        try:
            return template.format(**params)
        except (KeyError, IndexError):
            return template

    def has(self, key: str) -> bool:
        return key in self._messages

    def value(self, value: Any) -> str:
        """A before/after value for people: yes/no for booleans, "(none)" for nothing."""
        if isinstance(value, bool):
            return self(f"value.{str(value).lower()}")
        if isinstance(value, date):
            return value.isoformat()
        return self("value.none") if value in (None, "") else str(value)
