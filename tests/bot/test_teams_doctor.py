"""``doctor`` on the Teams settings: present together, an app id Entra can know, what to fix."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.cli import main


def test_local_mode_says_teams_is_anonymous_and_how_to_connect_it() -> None:
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "WARN  Teams" in result.output and "anonymous local mode" in result.output
    assert "-> set TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID" in result.output


def test_half_set_teams_settings_are_refused_before_anything_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEAMS_APP_ID", "3f1c9a52-7d4e-4b8a-9c21-5e6f7a8b9c0d")
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 1
    assert "set all of TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID" in result.output


def test_an_app_id_that_is_not_a_guid_fails_with_where_to_find_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEAMS_APP_ID", "onboarding-bot")
    monkeypatch.setenv("TEAMS_APP_PASSWORD", "secret-value-xyz")
    monkeypatch.setenv("TEAMS_TENANT_ID", "not a tenant")
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 1
    assert (
        "FAIL  Teams app id" in result.output and "'onboarding-bot' is not a GUID" in result.output
    )
    assert "Azure Bot's Microsoft App ID" in result.output
    assert "FAIL  Teams tenant" in result.output and "Directory (tenant) ID" in result.output
    assert "Teams token" not in result.output  # no point asking Entra with these
    assert "WARN  Teams endpoint" in result.output and "PUBLIC_URL/api/messages" in result.output
    assert "secret-value-xyz" not in result.output
