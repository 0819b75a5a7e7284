"""Settings: clear refusals for half-configured credentials, and friendly database URLs."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from bot.settings import Settings


def test_no_credentials_means_sandbox_and_local_mode() -> None:
    settings = Settings(_env_file=None)
    assert settings.autotask_mode == "sandbox"
    assert settings.slack_mode == "off"
    assert settings.database_url == "sqlite+aiosqlite:///onboarding.db"


def test_half_set_autotask_credentials_are_refused_with_the_fix() -> None:
    with pytest.raises(ValidationError, match="set all of AUTOTASK_USERNAME"):
        Settings(_env_file=None, autotask_username="api@example.com")


def test_env_and_dotenv_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("BILLING_ADMINS", "a@x.example, b@x.example")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:pw@db:5432/bot")
    with open(".env", "w") as f:
        f.write("SLACK_BOT_TOKEN=xoxb-1\nSLACK_SIGNING_SECRET=s\nSLACK_APP_TOKEN=xapp-1\n")
    settings = Settings()
    assert settings.billing_admins == ["a@x.example", "b@x.example"]
    assert settings.database_url == "postgresql+psycopg://u:pw@db:5432/bot"
    assert settings.slack_mode == "socket"
    assert "xoxb-1" not in repr(settings)


def test_concurrency_cannot_exceed_autotasks_limit() -> None:
    with pytest.raises(ValidationError, match="AUTOTASK_CONCURRENCY"):
        Settings(_env_file=None, autotask_concurrency=5)


def test_half_set_teams_credentials_are_refused_with_the_fix() -> None:
    with pytest.raises(ValidationError, match="set all of TEAMS_APP_ID, TEAMS_APP_PASSWORD"):
        Settings(_env_file=None, teams_app_id="3f1c9a52-7d4e-4b8a-9c21-5e6f7a8b9c0d")


def test_teams_is_anonymous_only_in_local_mode() -> None:
    assert Settings(_env_file=None).teams_mode == "anonymous"
    slack_only = Settings(_env_file=None, slack_bot_token="xoxb-1", slack_signing_secret="s")
    assert slack_only.teams_mode == "off"  # nothing unsigned is served next to a real Slack app
    both = Settings(_env_file=None, slack_bot_token="xoxb-1", slack_signing_secret="s",
                    teams_app_id="3f1c9a52-7d4e-4b8a-9c21-5e6f7a8b9c0d",
                    teams_app_password="pw-value", teams_tenant_id="contoso.onmicrosoft.com")  # fmt: skip
    assert both.teams_mode == "authenticated" and both.slack_mode == "http"
    assert "pw-value" not in repr(both)


def test_public_url_must_be_a_url() -> None:
    assert Settings(_env_file=None, public_url="https://bot.example.com/").public_url == (
        "https://bot.example.com"
    )
    with pytest.raises(ValidationError, match="PUBLIC_URL"):
        Settings(_env_file=None, public_url="bot.example.com")


def test_log_format_is_text_or_json_and_says_so_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    assert Settings(_env_file=None).log_format == "json"
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ValidationError, match="log_format"):
        Settings(_env_file=None)


def test_a_replica_is_named_by_replica_id_or_else_by_host_and_process() -> None:
    import os
    import socket

    assert Settings(_env_file=None, replica_id="bot-2").replica == "bot-2"
    assert Settings(_env_file=None).replica == f"{socket.gethostname()}-{os.getpid()}"


def test_env_example_names_only_settings_and_every_setting() -> None:
    """The file operators copy: a misspelt name there would be silently ignored."""
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / ".env.example"
    names = {line.split("=", 1)[0] for line in example.read_text().splitlines()
             if line and not line.startswith("#")}  # fmt: skip
    compose_only = {"POSTGRES_PASSWORD", "PUBLIC_PORT"}
    assert names - compose_only == {name.upper() for name in Settings.model_fields}


def test_a_plain_http_autotask_base_url_is_refused_unless_it_is_this_machine() -> None:
    live: dict[str, Any] = {"autotask_username": "api@msp.example", "autotask_secret": "real-secret",
            "autotask_integration_code": "REAL-CODE"}  # fmt: skip
    with pytest.raises(ValidationError, match=r"AUTOTASK_BASE_URL: .* plain http"):
        Settings(
            _env_file=None,
            autotask_base_url="http://autotask-proxy.msp.example/ATServicesRest/",
            **live,
        )
    for url in ("https://autotask-proxy.msp.example/ATServicesRest/",
                "http://127.0.0.1:8081/ATServicesRest/", "http://localhost:8081/ATServicesRest/"):  # fmt: skip
        assert Settings(_env_file=None, autotask_base_url=url, **live).autotask_base_url == url
    # compose's shared sandbox, with the sandbox's published API user: nothing secret to protect
    sandbox = Settings(_env_file=None, autotask_base_url="http://sandbox:8081/ATServicesRest/",
                       autotask_username="onboarding-bot@brightline-it.example",
                       autotask_secret="sandbox-secret-not-for-production",
                       autotask_integration_code="SANDBOX-ONBOARDING-BOT")  # fmt: skip
    assert sandbox.autotask_credentials().public


def test_repr_and_str_hide_the_database_password_and_the_url_still_works() -> None:
    settings = Settings(
        _env_file=None, database_url="postgres://bot:db-pass-never-shown@db:5432/bot"
    )
    for shown in (repr(settings), str(settings), f"{settings!r}"):
        assert "db-pass-never-shown" not in shown and "bot:***@db:5432/bot" in shown
    assert settings.database_url == "postgresql+psycopg://bot:db-pass-never-shown@db:5432/bot"
