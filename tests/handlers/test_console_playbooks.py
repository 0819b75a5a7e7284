"""Playbooks from the terminal: ``onboard-bot playbooks``, ``doctor``, an answers file with
``playbook:``, and the prompts with a playbook chosen on the first page."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main
from bot.container import build
from bot.scheduler import refresh_reference
from bot.settings import Settings
from services.store.migrate import upgrade
from tests.handlers.prompting import DOWN, ENTER, run_prompts

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def _examples(cwd: Path) -> Path:
    """The example playbooks where the bot looks by default (PLAYBOOKS_DIR=playbooks)."""
    shutil.copytree(EXAMPLES / "playbooks", cwd / "playbooks")
    return cwd / "playbooks"


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def _break(directory: Path) -> None:
    gold = (directory / "managed-gold.yaml").read_text()
    broken = gold.replace("Managed Gold", "Managed Platinum").replace(
        "Premium 24x7", "Premium 24/7"
    )
    (directory / "platinum.yaml").write_text(broken.replace("Gestionado Oro", "Gestionado Platino"))


def test_the_playbooks_command_lists_each_with_its_status(tmp_path: Path) -> None:
    _break(_examples(tmp_path))
    code, out = _cli("playbooks")
    assert code == 1
    assert out.splitlines()[1:] == [
        "valid        break-fix-block-hours.yaml  Break/fix with block hours (break_fix)",
        "valid        managed-essentials.yaml     Managed Essentials (managed)",
        "valid        managed-gold.yaml           Managed Gold (managed)",
        "not offered  platinum.yaml               Managed Platinum (managed)",
        '             platinum.yaml:20: sla: "Premium 24/7" is not one of this tenant\'s service '
        "level agreements (SLA); closest: Premium 24x7",
        "3 of 4 playbooks offered.",
    ]
    code, out = _cli("playbooks", "--lang", "es")
    assert "no se ofrece platinum.yaml" in out and "Se ofrecen 3 de 4 playbooks." in out
    (tmp_path / "playbooks" / "platinum.yaml").unlink()
    assert _cli("playbooks")[0] == 0


def test_no_playbooks_is_said_and_not_an_error(tmp_path: Path) -> None:
    code, out = _cli("playbooks")
    assert code == 0 and "No playbooks in playbooks (see docs/examples/playbooks/)." in out


def test_doctor_checks_each_playbook(tmp_path: Path) -> None:
    code, out = _cli("doctor")
    assert code == 0 and "WARN  Playbooks" in out  # none yet: a hint, not a failure
    _break(_examples(tmp_path))
    code, out = _cli("doctor")
    assert code == 1, out
    assert "PASS  Playbook managed-gold" in out and "Managed Gold (managed)" in out
    assert "FAIL  Playbook platinum" in out and "platinum.yaml: not offered (1 problem(s))" in out
    assert '-> platinum.yaml:20: sla: "Premium 24/7" is not one of' in out


def test_an_answers_file_with_a_playbook_is_planned_and_applied(tmp_path: Path) -> None:
    _examples(tmp_path)
    file = shutil.copy(EXAMPLES / "acme-dental-gold.yaml", tmp_path / "acme.yaml")
    code, out = _cli("onboard", "--answers", str(file))
    assert code == 0, out
    lines = out.splitlines()
    assert lines[1] == "Playbook: Managed Gold"
    assert lines[2].startswith("From the playbook: Client type, Convert to Customer, Add to")
    assert lines[3] == "Changed from the playbook: Billing period"  # the file says Quarterly
    assert 'Recurring service contract "Acme Dental - Managed Gold" (SLA Premium 24x7)' in out
    assert "Billing period: (none) -> Quarterly" in out
    code, out = _cli("onboard", "--answers", str(file), "--apply")
    assert code == 0, out
    assert "Acme Dental: onboarding applied (38 change(s), 0 already in place)." in out
    code, out = _cli("onboard", "--answers", str(file), "--lang", "es")
    assert "Playbook: Gestionado Oro" in out and "Cambiado respecto al playbook: " in out


def test_an_answers_file_naming_a_playbook_not_offered_says_so(tmp_path: Path) -> None:
    _break(_examples(tmp_path))
    file = tmp_path / "acme.yaml"
    file.write_text("company: Acme Dental\nplaybook: Managed Platinum\n")
    code, out = _cli("onboard", "--answers", str(file))
    assert code == 1
    assert 'Playbook: No valid playbook is called "Managed Platinum"' in out


def test_a_csv_row_names_its_playbook(tmp_path: Path) -> None:
    _examples(tmp_path)
    file = tmp_path / "clients.csv"
    file.write_text(
        "company,playbook,primary_contact\nDelta Print Works,Break/fix with block hours,\n"
    )
    code, out = _cli("onboard", "--answers", str(file))
    assert code == 0, out
    assert "Playbook: Break/fix with block hours" in out
    assert 'Block Hours contract "Delta Print Works - Block of 20 hours' in out


async def test_the_prompts_with_a_playbook_show_each_page_once_and_apply(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, sandbox_state_file=tmp_path / "tenant.json",
                        database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
                        playbooks_dir=_examples(tmp_path))  # fmt: skip
    await upgrade(settings.database_url)
    keys = [
        "Acme" + ENTER, DOWN + ENTER,  # company: search, then pick the match
        DOWN * 3 + ENTER,  # playbook: (none), Break/fix..., Managed Essentials, Managed Gold
        ENTER, ENTER,  # client type (managed, from the playbook), convert to customer (yes)
        ENTER,  # people: keep the playbook's team
        ENTER, ENTER, ENTER,  # primary contact (none), portal users (none), Taskfire (no)
        ENTER, ENTER, ENTER, ENTER,  # organization: search "", (none); children; bill parent
        ENTER,  # invoice settings: keep the playbook's
        ENTER, ENTER, ENTER,  # tax exempt (no), tax ID (none), Attention (none)
        ENTER,  # managed services: keep the playbook's contract, services and devices
        ENTER, ENTER, ENTER,  # no devices for the three services counted without them
        "y",  # apply the plan
    ]  # fmt: skip
    async with build(settings) as container:
        code, out = await run_prompts(container, keys)
        assert container.sandbox is not None
        tenant = container.sandbox.tenant
    assert code == 0, out
    assert "  ! The playbook Managed Gold filled in 15 answers." in out
    assert out.count("From the playbook Managed Gold:") == 3  # people, invoice settings, managed
    assert "  Service level agreement (SLA): Premium 24x7" in out
    assert "  Recurring service contract: Acme Dental - Managed Gold" in out
    assert "Playbook: Managed Gold\nFrom the playbook: Client type" in out
    assert "Acme Dental: onboarding applied" in out
    acme = next(c for c in tenant.table("Companies").values() if c["companyName"] == "Acme Dental")
    contracts = [c for c in tenant.table("Contracts").values() if c["companyID"] == acme["id"]]
    assert [(c["contractName"], c["serviceLevelAgreementID"]) for c in contracts] == [
        ("Acme Dental - Managed Gold", 2)
    ]


async def test_the_reference_refresh_checks_the_playbooks_again(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, sandbox_state_file=None,
                        database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
                        playbooks_dir=_examples(tmp_path))  # fmt: skip
    async with build(settings) as container:
        await refresh_reference(container)
        assert container.playbooks.find("managed-gold") is not None
        _break(settings.playbooks_dir)
        (settings.playbooks_dir / "managed-gold.yaml").write_text("title: Gold\nclient_type: x\n")
        await refresh_reference(container)
        assert container.playbooks.find("managed-gold") is None
        assert [s.name for s in container.playbooks.statuses() if s.valid] == [
            "break-fix-block-hours", "managed-essentials",
        ]  # fmt: skip
