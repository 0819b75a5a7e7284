"""What a modal carries in ``private_metadata``: the draft, where to report, the user's language."""

from __future__ import annotations

from pydantic import BaseModel


class ViewMeta(BaseModel):
    v: int = 1
    draft_id: str
    channel_id: str | None = None
    locale: str = "en"
    company_query: str | None = None  # /onboard text naming several organizations: listed on open

    def dump(self) -> str:
        return self.model_dump_json()

    @classmethod
    def load(cls, raw: str | None) -> ViewMeta | None:
        if not raw:
            return None
        try:
            return cls.model_validate_json(raw)
        except ValueError:
            return None
