"""The failure the sandbox answers with: Autotask's ``{"errors": [...]}`` body and a status."""

from __future__ import annotations


class SandboxError(Exception):
    def __init__(
        self,
        status: int,
        errors: list[str],
        headers: dict[str, str] | None = None,
        *,
        body: bool = True,  # False: the status alone, no ``{"errors": ...}`` body
    ) -> None:
        super().__init__("; ".join(errors))
        self.status = status
        self.errors = errors
        self.headers = headers or {}
        self.body = body
