"""``onboard-bot onboard``: answers files (dry run, apply, re-run, CSV, errors) and the prompts."""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    for name in ("acme-dental.yaml", "clients.csv"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    return tmp_path


def _onboard(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["onboard", *args])
    return result.exit_code, result.output


def test_a_yaml_file_is_a_dry_run_unless_apply_is_given(files: Path) -> None:
    code, out = _onboard("--answers", str(files / "acme-dental.yaml"))
    assert code == 0, out
    assert "built-in SANDBOX" in out
    assert "Plan for Acme Dental: 21 change(s) in 21 step(s)" in out
    assert "Organization type: Prospect -> Customer" in out
    assert "Invoice setup left for the billing administrator: tax ID" in out
    assert "Dry run: nothing was written" in out
    code, again = _onboard("--answers", str(files / "acme-dental.yaml"))
    assert "21 change(s)" in again  # nothing was written the first time


def test_apply_then_rerun_shows_no_change(files: Path) -> None:
    code, out = _onboard("--answers", str(files / "acme-dental.yaml"), "--apply")
    assert code == 0, out
    assert "Acme Dental: onboarding applied (21 change(s), 0 already in place)." in out
    assert out.count("Client Portal password for") == 2
    code, again = _onboard("--answers", str(files / "acme-dental.yaml"))
    assert "Plan for Acme Dental: 0 change(s) in 21 step(s)" in again
    assert again.count("no change") == 21


def test_a_csv_file_plans_each_client_in_spanish(files: Path) -> None:
    code, out = _onboard("--answers", str(files / "clients.csv"), "--lang", "es")
    assert code == 0, out
    assert "Plan para Cedar & Pine Law" in out and "Plan para Delta Print Works" in out
    assert 'Contrato Block Hours "Delta block of 20 hours"' in out
    assert out.count("Simulación: no se escribió nada") == 2


def test_unknown_names_are_reported_on_their_question(files: Path) -> None:
    bad = files / "bad.yaml"
    bad.write_text(
        (files / "acme-dental.yaml")
        .read_text()
        .replace("Premium 24x7", "Platinum")
        .replace("Oscar Young", "Nobody Here")
    )
    code, out = _onboard("--answers", str(bad))
    assert code == 1
    assert "Service level agreement (SLA): Choose one of the listed values." in out
    assert "Attention: Choose one of the listed values." in out


def test_resume_of_an_unknown_onboarding_says_so() -> None:
    code, out = _onboard("--resume", "nope")
    assert code == 1 and "No onboarding has the id nope." in out


def test_migrate_brings_the_database_to_the_latest_schema() -> None:
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "is at the latest schema" in result.output


def test_a_break_fix_yaml_with_contract_dates_is_applied(files: Path) -> None:
    delta = files / "delta.yaml"
    delta.write_text(
        "company: Delta Print Works\nclient_type: break_fix\nbilling_contracts:\n"
        '  - {type: Time & Materials, name: "2024", start: 2027-01-01, end: 2027-12-31}\n'
    )
    code, out = _onboard("--answers", str(delta), "--apply")
    assert code == 0, out
    assert 'Time & Materials contract "2024"' in out  # a name of digits stays a name
    assert "Delta Print Works: onboarding applied (4 change(s), 0 already in place)." in out


def test_the_terminal_says_each_state_of_a_run_in_english_and_spanish() -> None:
    from datetime import UTC, datetime

    from handlers.console import render_run
    from services.i18n import Translator
    from services.onboarding.attempts import Waiting
    from services.onboarding.presenter import Requester, RunView
    from services.onboarding.runner import StepView

    steps = [
        StepView("company_type", "company_type", {"company": "Acme"}, [], "done"),
        StepView("team_add:1", "team_add", {"person": "Raj Iyer"}, [], "running"),
        StepView("note", "note", {"company": "Acme"}, [], "pending"),
    ]
    view = RunView("o1", 1, "Acme", "applying", steps, Requester("console", "me"))
    en, es = Translator("en"), Translator("es")
    assert render_run(view, en) == "Acme: applying, step 2 of 3: Add Raj Iyer to the company team"
    resumed = replace(view, resumed=True)
    assert render_run(resumed, en).startswith("Acme: resumed after an interruption, step 2 of 3")
    assert render_run(resumed, es).startswith("Acme: reanudada tras una interrupción, paso 2 de 3")
    until = datetime(2027, 1, 1, 10, 42, 13, tzinfo=UTC)
    waiting = replace(view, waiting=Waiting("busy", "Thread Threshold Exceeded", until))
    line = render_run(waiting, en)
    assert line.startswith(
        "Acme: waiting for Autotask (Autotask is busy: Thread Threshold Exceeded)"
    )
    assert until.astimezone().strftime("%H:%M:%S") in line
    failed = replace(view, status="failed", steps=[
        steps[0], replace(steps[1], state="failed", error="Autotask said no"), steps[2],
    ])  # fmt: skip
    assert 'failed at "Add Raj Iyer to the company team": Autotask said no' in render_run(
        failed, en
    )
    assert "onboard-bot onboard --resume o1" in render_run(failed, en)
    assert render_run(replace(view, status="applied"), es) == "Acme: aplicada"
    assert render_run(replace(view, status="cancelled"), en) == "Acme: cancelled"


def test_an_applied_answers_file_at_debug_logs_no_password_and_no_secret(
    files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.autotask.sandbox import SANDBOX_INTEGRATION_CODE, SANDBOX_SECRET
    from tests.log_capture import everything_logged

    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    with everything_logged([]) as (records, _):
        code, out = _onboard("--answers", str(files / "acme-dental.yaml"), "--apply")
    assert code == 0, out
    passwords = re.findall(r"Client Portal password for .*?: (\S{20})  \(shown once", out)
    assert len(passwords) == 2, out
    raw = records.text()
    assert any(r.name == "services.onboarding.runner" and r.levelno == logging.INFO
               for r in records.records)  # fmt: skip
    assert any(r.levelno == logging.DEBUG for r in records.records)
    for value in [*passwords, SANDBOX_SECRET, SANDBOX_INTEGRATION_CODE]:
        assert value not in raw, value
