"""The form covers every seed step, and both catalogues speak for every key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.i18n import Translator, catalogue, normalize_locale
from services.onboarding import form
from services.onboarding.form import QUESTIONS

ROOT = Path(__file__).resolve().parents[3]


def test_both_catalogues_have_the_same_keys_and_every_form_key() -> None:
    en, es = set(catalogue("en")), set(catalogue("es"))
    assert en == es, f"only in en: {sorted(en - es)}; only in es: {sorted(es - en)}"
    assert form.all_i18n_keys() <= en, sorted(form.all_i18n_keys() - en)


def test_every_key_the_code_uses_is_in_the_catalogues() -> None:
    used: set[str] = set()
    pattern = re.compile(
        r"""["'](errors|step|field|state|status|missing|plan|report|console|value|slack|teams|reminder|refused|form|playbook)\.([a-z_A-Z.]*[a-z_A-Z])["']"""
    )
    for path in [*ROOT.glob("services/**/*.py"), *ROOT.glob("handlers/**/*.py")]:
        used |= {f"{a}.{b}" for a, b in pattern.findall(path.read_text())}
    step_kinds = set(re.findall(r'"step\.(\w+)"', (ROOT / "services/i18n/en.json").read_text()))
    planned = set(re.findall(r'(?:CreateStep|PatchStep|DeleteStep|PortalUserStep|ContractServiceStep)\(\s*f?"[^"]*",\s*"(\w+)"',
                             "".join(p.read_text() for p in ROOT.glob("services/onboarding/plan*.py"))))  # fmt: skip
    assert planned <= step_kinds, planned - step_kinds
    assert used <= set(catalogue("en")), sorted(used - set(catalogue("en")))


MARKUP = {
    "bold": re.compile(r"(^|\W)\*[^*\s][^*]*\*"),
    "italic": re.compile(r"(^|\W)_[^_\s][^_]*_(\W|$)"),
    "strike": re.compile(r"(^|\W)~[^~\s][^~]*~"),
    "code": re.compile(r"`"),
    "mention, channel or link": re.compile(r"<[@#!]|<https?:"),
    "emoji code": re.compile(r":[a-z0-9_+-]+:"),
}


@pytest.mark.parametrize("locale", ["en", "es"])
def test_no_catalogue_string_carries_chat_markup(locale: str) -> None:
    """The catalogues are every front-end's: Slack's bold, mentions and emoji are added by the
    Slack formatter, so the terminal and Teams never show ``*Acme*`` or ``<@U123>``."""
    found = [f"{key} ({kind}): {text}" for key, text in catalogue(locale).items()
             for kind, pattern in MARKUP.items() if pattern.search(text)]  # fmt: skip
    assert not found, "\n".join(found)


def test_spanish_uses_the_seed_pages_own_words() -> None:
    t = Translator("es")
    assert t("q.team_add.label") == "Añadir al equipo de empresa"
    assert t("q.primary_contact.label") == "Contacto principal"
    assert t("q.portal_security_level.label") == "Nivel de seguridad del Portal del cliente"
    assert t("q.tax_region.label") == "Región impositiva"
    assert t("q.tax_id.label") == "Id. de impuesto"
    assert t("q.attention_contact.label") == "Atención"
    assert t("q.parent_company.label") == "Organización matriz"
    assert t("page.billing") == "Configuración de la factura"
    assert t("q.contract_name.label") == "Contrato de servicio recurrente"


def test_locales_fall_back_to_english() -> None:
    assert normalize_locale("es-MX") == "es"
    assert normalize_locale("pt-BR") == "en"
    assert Translator("fr")("q.sla.label") == "Service level agreement (SLA)"


def test_every_seed_step_has_a_question() -> None:
    seed_steps = {
        1: "team_add", 2: "primary_contact", 3: "portal_contacts", 4: "taskfire", 5: "parent_company",
        6: "invoice_template", 7: "sla", 8: "contract_name", 9: "devices", 10: "billing_contracts", 11: "bf_sla",
    }  # fmt: skip
    assert set(seed_steps.values()) <= set(QUESTIONS)
    for qid in ("tax_region", "tax_id", "bill_to", "attention_contact", "child_companies", "bill_to_parent",
                "portal_security_level", "billing_admins", "services", "team_remove", "convert_to_customer"):  # fmt: skip
        assert qid in QUESTIONS


def test_pages_follow_the_client_type() -> None:
    managed = [p.id for p in form.visible_pages({"client_type": "managed"})]
    assert managed == ["client", "people", "organization", "billing", "managed"]
    assert form.next_page("billing", {"client_type": "break_fix"}) == "break_fix"
    assert form.previous_page("break_fix", {"client_type": "break_fix"}) == "billing"
    assert form.next_page("managed", {"client_type": "managed"}) is None
    hidden = form.visible_answers({"client_type": "managed", "bf_sla": 3, "sla": 1, "bill_to": "company",
                                   "billing_city": "Austin"})  # fmt: skip
    assert "bf_sla" not in hidden and "billing_city" not in hidden and hidden["sla"] == 1
