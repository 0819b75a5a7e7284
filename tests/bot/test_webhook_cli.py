"""`webhooks sync`, `doctor` and `run` in local mode, as an operator uses them."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.settings import Settings
from services.autotask.sandbox import build_tenant
from services.autotask.sandbox.webhooks import autotask_json, sign
from tests.onboarding_support import company_id

SECRET = "cli-webhook-secret-0123456789abcdef"


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_URL", "https://onboard.invalid")
    monkeypatch.setenv("AUTOTASK_WEBHOOK_SECRET", SECRET)


def _line(output: str, name: str) -> str:
    return next(line for line in output.splitlines() if name in line)


def test_sync_says_what_it_needs_when_not_configured() -> None:
    result = CliRunner().invoke(main, ["webhooks", "sync"])
    assert result.exit_code != 0
    assert "set PUBLIC_URL and AUTOTASK_WEBHOOK_SECRET first" in result.output


def test_doctor_warns_that_the_webhook_is_not_configured() -> None:
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 0, result.output
    assert _line(result.output, "Autotask webhook").startswith("WARN  Autotask webhook")
    assert "set PUBLIC_URL and AUTOTASK_WEBHOOK_SECRET" in result.output


@pytest.mark.usefixtures("configured")
def test_sync_creates_once_and_doctor_reports_missing_ready_and_deactivated(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(main, ["doctor"])
    assert missing.exit_code == 1
    assert _line(missing.output, "Autotask webhook").startswith("FAIL  Autotask webhook")
    assert "missing" in missing.output and "onboard-bot webhooks sync" in missing.output

    created = runner.invoke(main, ["webhooks", "sync"])
    assert created.exit_code == 0, created.output
    assert "webhook 1: ready; created; subscribed" in created.output
    again = runner.invoke(main, ["webhooks", "sync"])
    assert again.exit_code == 0 and "webhook 1: ready; watching" in again.output
    assert "created" not in again.output
    state = json.loads((tmp_path / "sandbox-tenant.json").read_text())
    assert len(state["records"]["companywebhooks"]) == 1

    ready = runner.invoke(main, ["doctor"])
    assert ready.exit_code == 0, ready.output
    assert _line(ready.output, "Autotask webhook").startswith("PASS  Autotask webhook")
    assert SECRET not in ready.output + created.output + again.output

    state["records"]["companywebhooks"]["1"]["isActive"] = False  # Autotask gave up on us
    (tmp_path / "sandbox-tenant.json").write_text(json.dumps(state))
    off = runner.invoke(main, ["doctor"])
    assert off.exit_code == 1
    assert "deactivated" in _line(off.output, "Autotask webhook")
    assert "reachable from Autotask" in off.output
    back = runner.invoke(main, ["webhooks", "sync"])
    assert back.exit_code == 0 and "reactivated" in back.output


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AUTOTASK_WEBHOOK_SECRET": SECRET}, "PUBLIC_URL is not"),
        ({"PUBLIC_URL": "onboard.example.com", "AUTOTASK_WEBHOOK_SECRET": SECRET}, "base URL"),
        ({"PUBLIC_URL": "https://a.example", "AUTOTASK_WEBHOOK_SECRET": "sh0rtSecret"}, "16 to 64"),
        ({"REMINDER_SWEEP_MINUTES": "10", "REMINDER_SWEEP_MINUTES_WITH_WEBHOOK": "5"}, "stretched"),
    ],
)
def test_settings_refuse_what_cannot_work(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code != 0 and message in result.output
    assert "sh0rtSecret" not in result.output and SECRET not in result.output


def test_settings_hold_the_secret_as_a_secret() -> None:
    settings = Settings(
        _env_file=None, public_url="https://a.example/", autotask_webhook_secret=SECRET
    )
    assert settings.public_url == "https://a.example" and settings.webhooks_enabled
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_run_in_local_mode_registers_and_hears_its_own_sandbox(tmp_path: Path) -> None:
    """`onboard-bot run` with the built-in sandbox and PUBLIC_URL pointing at itself."""
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "AUTOTASK_", "DATABASE_URL", "PUBLIC_URL"))
    }
    env |= {"PORT": str(port), "HOST": "127.0.0.1", "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "AUTOTASK_WEBHOOK_SECRET": SECRET}  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    with subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=tmp_path, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as proc:  # fmt: skip
        assert proc.stderr is not None
        stderr = proc.stderr

        def pump() -> None:
            for line in stderr:
                lines.put(line)

        threading.Thread(target=pump, daemon=True).start()

        def wait_for(text: str) -> str:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    line = lines.get(timeout=0.5)
                except queue.Empty:
                    continue
                if text in line:
                    return line
            raise AssertionError(f"no log line with {text!r}")

        try:
            assert "ready" in wait_for("Autotask company webhook: webhook 1")
            acme = company_id(build_tenant(), "Acme Dental")
            base = f"http://127.0.0.1:{port}"
            edit = httpx.post(f"{base}/_sandbox/companies/{acme}",
                              json={"changes": {"billToAttention": "Oscar Young"}})  # fmt: skip
            assert edit.status_code == 200, edit.text
            assert "changed (Update by resource" in wait_for(f"company {acme} changed")
            body = autotask_json({"Action": "Update", "EntityType": "Company", "Id": acme})
            forged = httpx.post(f"{base}/autotask/webhooks/companies", content=body,
                                headers={"X-Hook-Signature": sign("guessed-wrong-0123456789", body)})  # fmt: skip
            assert forged.status_code == 401
            assert "bad signature" in wait_for("refused an Autotask webhook callout")
            [delivery] = httpx.get(f"{base}/_sandbox/deliveries").json()
            assert delivery["attempts"] == [200] and delivery["payload"]["Id"] == acme
        finally:
            proc.terminate()
            proc.wait(timeout=10)
