"""Every setting of the bot, from the environment or ``.env``. Only ``bot/`` builds it."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BeforeValidator, SecretStr, computed_field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from services.autotask.sandbox.seed import SANDBOX_INTEGRATION_CODE, SANDBOX_SECRET
from services.autotask.zones import Credentials, plain_http_refusal
from services.devices.rules import DEFAULT_RULES, ServiceRules


def _split(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


CommaList = Annotated[list[str], NoDecode, BeforeValidator(_split)]


def _without_password(url: object) -> object:
    try:
        return make_url(str(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unreadable URL)"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_ignore_empty=True, extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"

    teams_app_id: str | None = None
    teams_app_password: SecretStr | None = None
    teams_tenant_id: str | None = None
    # The public base URL where Autotask and chat platforms reach this bot (https://bot.example.com)
    public_url: str | None = None

    autotask_username: str | None = None
    autotask_secret: SecretStr | None = None
    autotask_integration_code: SecretStr | None = None
    autotask_base_url: str | None = None
    autotask_impersonate: bool = True
    autotask_concurrency: int = 3
    autotask_max_retries: int = 5

    sandbox_state_file: Path | None = Path("sandbox-tenant.json")
    sandbox_latency: float = 0.0
    sandbox_fault_rate: float = 0.0  # share of sandbox calls that fail at random (0 to 1)

    playbooks_dir: Path = Path("playbooks")

    database_url: str = "sqlite+aiosqlite:///onboarding.db"
    host: str = "0.0.0.0"  # noqa: S104 (a server that Slack must reach)
    port: int = 3000
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    replica_id: str | None = None  # unset: hostname-pid
    shutdown_timeout: float = 25.0
    # a run's lease: renewed every third of it while the run works, checked before every write
    run_lease_seconds: float = 120.0
    # every replica resumes interrupted runs at start-up and this often
    orphan_sweep_seconds: float = 60.0
    run_auto_resumes: int = 3  # times one run is resumed on its own before it shows Retry
    run_step_retries: int = 3  # more attempts of a step after a transient Autotask failure

    billing_admins: CommaList = []
    onboarders: CommaList = []
    onboarding_admins: CommaList = []

    reminder_hours: str = "09:00-17:00"
    reminder_weekdays: CommaList = ["mon", "tue", "wed", "thu", "fri"]
    reminder_interval_hours: float = 24.0
    reminder_escalate_after: int = 3
    reminder_escalation_channel: str | None = None
    reminder_default_tz: str = "UTC"
    reminder_items: CommaList = [
        "invoice_template",
        "tax_region",
        "tax_id",
        "billing_address",
        "attention",
    ]
    # the safety-net sweep re-reads every open reminder's company this often...
    reminder_sweep_minutes: float = 5.0
    # ...and this often while the company webhook is healthy
    reminder_sweep_minutes_with_webhook: float = 360.0

    # devices that arrive later (services/devices): the sweep's interval, the quiet period
    # that ends a follow-up, and the rule suggesting each device's service
    device_sweep_minutes: float = 60.0
    device_quiet_days: int = 30
    device_service_rules: str = DEFAULT_RULES

    autotask_webhook_secret: SecretStr | None = None
    # no callout for this long: stop relying on the webhook until one arrives
    autotask_webhook_silence_hours: float = 24.0

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parsed = urlsplit(value.strip())
        if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query:
            raise ValueError(
                "PUBLIC_URL must be the bot's base URL, e.g. https://onboard.example.com"
            )
        return value.strip().rstrip("/")

    @field_validator("autotask_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        text = value.get_secret_value()
        # Autotask takes up to 64 characters; shorter than 16 is too easy to guess
        if not 16 <= len(text) <= 64 or any(c.isspace() for c in text):
            raise ValueError(
                "AUTOTASK_WEBHOOK_SECRET must be 16 to 64 characters without spaces "
                "(e.g. `openssl rand -hex 32`)"
            )
        return value

    @field_validator(
        "reminder_sweep_minutes", "reminder_sweep_minutes_with_webhook",
        "autotask_webhook_silence_hours", "run_lease_seconds", "orphan_sweep_seconds",
        "device_sweep_minutes", "device_quiet_days",
    )  # fmt: skip
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be greater than 0")
        return value

    @field_validator("device_service_rules")
    @classmethod
    def _device_rules(cls, value: str) -> str:
        ServiceRules.parse(value)  # its ValueError names the rule that is wrong
        return value

    @field_validator("sandbox_fault_rate")
    @classmethod
    def _share(cls, value: float) -> float:
        if not 0 <= value <= 1:
            raise ValueError("must be between 0 and 1, e.g. 0.1 for one call in ten")
        return value

    @field_validator("reminder_items")
    @classmethod
    def _known_items(cls, value: list[str]) -> list[str]:
        known = ("invoice_template", "tax_region", "tax_id", "billing_address", "attention")
        unknown = [v for v in value if v not in known]
        if unknown:
            raise ValueError(f"REMINDER_ITEMS: unknown {unknown}; choose from {', '.join(known)}")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        """Accept the URLs hosting providers hand out and pick the async drivers we ship."""
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value.removeprefix(prefix)
        if value.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("run_auto_resumes", "run_step_retries")
    @classmethod
    def _count(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must be 0 or more")
        return value

    @field_validator("shutdown_timeout")
    @classmethod
    def _timeout(cls, value: float) -> float:
        if value < 0:
            raise ValueError("SHUTDOWN_TIMEOUT is in seconds and cannot be negative")
        return value

    @field_validator("autotask_concurrency")
    @classmethod
    def _concurrency(cls, value: int) -> int:
        if not 1 <= value <= 3:
            raise ValueError(
                "AUTOTASK_CONCURRENCY must be 1, 2 or 3 (Autotask allows 3 per entity)"
            )
        return value

    @model_validator(mode="after")
    def _complete_credentials(self) -> Settings:
        autotask = [self.autotask_username, self.autotask_secret, self.autotask_integration_code]
        if any(autotask) and not all(autotask):
            raise ValueError(
                "set all of AUTOTASK_USERNAME, AUTOTASK_SECRET and AUTOTASK_INTEGRATION_CODE, "
                "or none of them to use the built-in sandbox"
            )
        slack = [self.slack_bot_token, self.slack_signing_secret]
        if any(slack) and not all(slack):
            raise ValueError("set both SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, or neither")
        teams = [self.teams_app_id, self.teams_app_password, self.teams_tenant_id]
        if any(teams) and not all(teams):
            raise ValueError(
                "set all of TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID, or none of them "
                "for anonymous local mode"
            )
        if self.autotask_base_url and self.autotask_mode == "live":
            refusal = plain_http_refusal(self.autotask_base_url, self.autotask_credentials())
            if refusal:
                raise ValueError(f"AUTOTASK_BASE_URL: {refusal}")
        if self.autotask_webhook_secret and not self.public_url:
            raise ValueError(
                "AUTOTASK_WEBHOOK_SECRET is set but PUBLIC_URL is not: Autotask needs the URL "
                "to call (or unset the secret)"
            )
        if self.reminder_sweep_minutes_with_webhook < self.reminder_sweep_minutes:
            raise ValueError(
                "REMINDER_SWEEP_MINUTES_WITH_WEBHOOK is a stretched interval: it cannot be "
                "shorter than REMINDER_SWEEP_MINUTES"
            )
        return self

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """``repr`` and ``str`` (what a traceback or a debugger shows) hide the password in
        ``DATABASE_URL`` as they hide every ``SecretStr``; the field itself stays a usable URL."""
        for name, value in super().__repr_args__():
            yield name, _without_password(value) if name == "database_url" else value

    def autotask_credentials(self) -> Credentials:
        """The live API user (``public`` when it is the sandbox's published one, e.g. compose's
        shared sandbox: those values protect nothing and may cross plain http)."""
        assert self.autotask_username and self.autotask_secret and self.autotask_integration_code
        public = (self.autotask_secret.get_secret_value(), self.autotask_integration_code.get_secret_value()) == (SANDBOX_SECRET, SANDBOX_INTEGRATION_CODE)  # fmt: skip
        return Credentials(self.autotask_username, self.autotask_secret,
                           self.autotask_integration_code, public=public)  # fmt: skip

    @computed_field  # type: ignore[prop-decorator]  # mypy cannot type it (python/mypy#1362; pydantic docs)
    @property
    def replica(self) -> str:
        """Names this process in logs and run leases: ``REPLICA_ID``, else hostname-pid."""
        return self.replica_id or f"{socket.gethostname()}-{os.getpid()}"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def autotask_mode(self) -> Literal["sandbox", "live"]:
        return "live" if self.autotask_username else "sandbox"

    @property
    def webhooks_enabled(self) -> bool:
        """Both set: register the company webhook and serve its two URLs."""
        return bool(self.public_url and self.autotask_webhook_secret)

    @computed_field  # type: ignore[prop-decorator]  # as above: python/mypy#1362
    @property
    def slack_mode(self) -> Literal["off", "socket", "http"]:
        if not self.slack_bot_token:
            return "off"
        return "socket" if self.slack_app_token else "http"

    @computed_field  # type: ignore[prop-decorator]  # as above: python/mypy#1362
    @property
    def teams_mode(self) -> Literal["off", "anonymous", "authenticated"]:
        """Authenticated: inbound JWTs are checked and replies carry Entra tokens. Anonymous (local
        mode: no TEAMS_* and no Slack settings): unsigned activities from tools on this machine
        (Agents Playground, tests). Off when only Slack is configured."""
        if self.teams_app_id:
            return "authenticated"
        return "anonymous" if self.slack_mode == "off" else "off"
