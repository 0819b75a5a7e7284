"""``onboard-bot devices [COMPANY] [--apply]``: devices that arrived after a managed onboarding
applied from the terminal, listed with their suggestion and the preview, then attached."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from services.autotask.sandbox import open_tenant
from tests.onboarding_support import company_id

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.fixture
def applied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Acme Dental onboarded from its answers file; then the RMM brings in three devices."""
    monkeypatch.setenv("DEVICE_SWEEP_MINUTES", "0.0001")
    monkeypatch.setenv("REMINDER_HOURS", "00:00-23:59")
    monkeypatch.setenv("REMINDER_WEEKDAYS", "mon,tue,wed,thu,fri,sat,sun")
    shutil.copy(EXAMPLES / "acme-dental.yaml", tmp_path / "acme-dental.yaml")
    result = CliRunner().invoke(main, ["onboard", "--answers", "acme-dental.yaml", "--apply"])
    assert result.exit_code == 0, result.output
    tenant = open_tenant(tmp_path / "sandbox-tenant.json")
    cid = company_id(tenant, "Acme Dental")
    for title, kind in (("SRV-LATE-1", 2), ("WS-LATE-1", 1), ("PRN-LATE-1", 4)):
        tenant.create("ConfigurationItems", {"companyID": cid, "productID": 101, "isActive": True,
                                             "referenceTitle": title, "configurationItemType": kind})  # fmt: skip
    return tmp_path


def _devices(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["devices", *args])
    return result.exit_code, result.output


def test_devices_lists_the_new_devices_with_the_preview_and_apply_attaches_them(
    applied: Path,
) -> None:
    code, out = _devices("acme")
    assert code == 0, out
    assert "3 new device(s) of Acme Dental are not on the contract" in out
    assert "Suggested: Managed Server\n    SRV-LATE-1 (Server)" in out
    assert "No suggestion: choose a service in Review\n    PRN-LATE-1 (Printer)" in out
    assert "Units of Managed Server: 3 → 4 (counted per device)." in out
    assert "Units of Managed Workstation stay as they are (not counted per device)." in out

    code, out = _devices("acme", "--apply")
    assert code == 0, out
    assert "Attached 2 device(s)" in out and "SRV-LATE-1 -> Managed Server" in out
    assert "Units of Managed Server: 3 → 4." in out
    tenant = open_tenant(applied / "sandbox-tenant.json")
    titles = {d["referenceTitle"]: d for d in tenant.table("ConfigurationItems").values()}
    assert titles["SRV-LATE-1"].get("contractServiceID") and titles["WS-LATE-1"].get("contractID")
    assert titles["PRN-LATE-1"].get("contractID") is None

    code, out = _devices("acme", "--lang", "es")
    assert code == 0, out
    assert "1 dispositivo(s) nuevo(s) de Acme Dental" in out and "PRN-LATE-1" in out
    assert "Sin sugerencia" in out and "Vincular 0 dispositivo(s)" in out


def test_devices_says_so_when_nothing_waits(applied: Path) -> None:
    code, out = _devices("no such client")
    assert code == 0 and "No devices are waiting for a decision." in out
