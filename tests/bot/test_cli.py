"""The two commands a newcomer runs, and the doctor."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main


def test_run_without_credentials_says_sandbox_and_sqlite_first(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "TEAMS_", "AUTOTASK_", "DATABASE_URL"))
    }
    env["PORT"] = "0"
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True,
    ) as proc:  # fmt: skip
        try:
            assert proc.stdout is not None
            lines = [proc.stdout.readline() for _ in range(6)]
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    text = "".join(lines)
    assert "built-in SANDBOX" in lines[1]
    assert "local SQLite file" in lines[2]
    assert "Slack: not configured" in text
    assert "Teams: ANONYMOUS local mode" in lines[4]  # says that nothing checks who is calling
    assert "listening on" in lines[5] and "POST /api/messages" in lines[5]
    deadline = time.monotonic() + 5
    while not (tmp_path / "sandbox-tenant.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (tmp_path / "sandbox-tenant.json").exists()


def test_doctor_passes_in_sandbox_mode() -> None:
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "PASS  Autotask zone" in result.output
    assert "PASS  Autotask CompanyTeams" in result.output
    assert "PASS  Database" in result.output


def test_doctor_fails_with_the_fix_when_the_database_is_unreachable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody:pw@127.0.0.1:1/none")
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 1
    assert "FAIL  Database" in result.output
    assert "fix DATABASE_URL" in result.output
    assert "pw@" not in result.output


def test_doctor_reports_bad_autotask_credentials_with_the_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from services.autotask.sandbox import SANDBOX_USERNAME

    # The sandbox is not live: point live credentials at an address that refuses connections.
    monkeypatch.setenv("AUTOTASK_USERNAME", SANDBOX_USERNAME)
    monkeypatch.setenv("AUTOTASK_SECRET", "wrong-secret-value")
    monkeypatch.setenv("AUTOTASK_INTEGRATION_CODE", "X")
    monkeypatch.setenv("AUTOTASK_BASE_URL", "http://127.0.0.1:1/ATServicesRest/")
    monkeypatch.setenv("AUTOTASK_MAX_RETRIES", "0")
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 1
    assert "FAIL  Autotask credentials" in result.output
    assert "wrong-secret-value" not in result.output


def test_a_half_configured_install_gets_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code != 0
    assert "set both SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET" in result.output


def test_run_says_whether_teams_requests_are_checked() -> None:
    from bot.cli import startup_lines
    from bot.settings import Settings

    secured = Settings(_env_file=None, teams_app_id="3f1c9a52-7d4e-4b8a-9c21-5e6f7a8b9c0d",
                       teams_app_password="pw-value", teams_tenant_id="contoso.onmicrosoft.com")  # fmt: skip
    lines = startup_lines(secured)
    assert any("every request must carry a valid Bot Framework token" in line for line in lines)
    assert not any("pw-value" in line for line in lines)
    slack_only = Settings(_env_file=None, slack_bot_token="xoxb-1", slack_signing_secret="s")
    assert "Teams: not configured" in startup_lines(slack_only)[-1]
