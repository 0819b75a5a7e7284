"""Pydantic models of the Autotask entities the onboarding touches.

Python names are snake_case; the aliases are the API's own names. pydantic's ``to_camel`` would
spell ``ownerResourceId`` where Autotask says ``ownerResourceID``, so the alias generator here
upper-cases a trailing ``Id``. Unknown fields are kept (``extra="allow"``) because tenants add
fields with releases and a read-modify-write must not drop them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True)
class Parent:
    """Where a child entity is written: ``/{entity}/{id}/{path}``."""

    entity: str
    id: int
    path: str


def api_alias(name: str) -> str:
    head, *rest = name.split("_")
    camel = head + "".join(part[:1].upper() + part[1:] for part in rest)
    return camel[:-2] + "ID" if camel.endswith("Id") else camel


class Entity(BaseModel):
    """One Autotask record. ``entity`` is the REST name; ``parent`` is where children are written."""

    model_config = ConfigDict(
        alias_generator=api_alias, validate_by_name=True, validate_by_alias=True, extra="allow"
    )

    entity: ClassVar[str]
    # (parent entity, path segment under the parent, foreign-key field) for child entities
    parent: ClassVar[tuple[str, str, str] | None] = None

    id: int | None = None

    @classmethod
    def entity_name(cls) -> str:
        return cls.entity

    def to_api(self) -> dict[str, Any]:
        """The fields that were set, by API name: what a POST or PATCH should carry."""
        return self.model_dump(by_alias=True, exclude_unset=True, mode="json")

    def parent_ref(self) -> Parent | None:
        if self.parent is None:
            return None
        parent_entity, path, fk = self.parent
        parent_id = getattr(self, fk)
        if parent_id is None:
            raise ValueError(f"{self.entity} needs {fk} to be written under {parent_entity}")
        return Parent(parent_entity, int(parent_id), path)


class Company(Entity):
    entity = "Companies"

    company_name: str | None = None
    company_type: int | None = None
    company_number: str | None = None
    owner_resource_id: int | None = None
    phone: str | None = None
    is_active: bool | None = None
    is_task_fire_active: bool | None = None
    is_client_portal_active: bool | None = None
    parent_company_id: int | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country_id: int | None = None
    web_address: str | None = None
    invoice_template_id: int | None = None
    invoice_method: int | None = None
    tax_region_id: int | None = None
    tax_id: str | None = None
    is_tax_exempt: bool | None = None
    invoice_non_contract_items_to_parent_company: bool | None = None
    bill_to_address_to_use: int | None = None
    bill_to_company_location_id: int | None = None
    billing_address1: str | None = None
    billing_address2: str | None = None
    bill_to_city: str | None = None
    bill_to_state: str | None = None
    bill_to_zip_code: str | None = None
    bill_to_country_id: int | None = None
    bill_to_attention: str | None = None
    last_tracked_modified_date_time: datetime | None = None


class Contact(Entity):
    entity = "Contacts"
    parent = ("Companies", "Contacts", "company_id")

    company_id: int | None = None
    first_name: str | None = None
    last_name: str | None = None
    email_address: str | None = None
    phone: str | None = None
    title: str | None = None
    is_active: int | None = None  # 1/0 in the API model, not a boolean
    primary_contact: bool | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name or ''} {self.last_name or ''}".strip()


class ClientPortalUser(Entity):
    entity = "ClientPortalUsers"

    contact_id: int | None = None
    user_name: str | None = None
    password: str | None = None
    security_level: int | None = None
    date_format: int | None = None
    number_format: int | None = None
    time_format: int | None = None
    is_client_portal_active: bool | None = None


class CompanyTeam(Entity):
    entity = "CompanyTeams"
    parent = ("Companies", "Teams", "company_id")

    company_id: int | None = None
    resource_id: int | None = None
    is_associated_as_comanaged: bool | None = None


class Resource(Entity):
    entity = "Resources"

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    email2: str | None = None
    email3: str | None = None
    user_name: str | None = None
    title: str | None = None
    is_active: bool | None = None
    license_type: int | None = None
    resource_type: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name or ''} {self.last_name or ''}".strip()


class Contract(Entity):
    entity = "Contracts"

    company_id: int | None = None
    contract_name: str | None = None
    contract_type: int | None = None
    contract_category: int | None = None
    contract_period_type: int | None = None
    status: int | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    service_level_agreement_id: int | None = None
    time_reporting_requires_start_and_stop_times: int | None = None
    description: str | None = None
    contact_id: int | None = None
    is_default_contract: bool | None = None
    setup_fee: float | None = None


class ContractService(Entity):
    entity = "ContractServices"
    parent = ("Contracts", "Services", "contract_id")

    contract_id: int | None = None
    service_id: int | None = None
    unit_price: float | None = None
    unit_cost: float | None = None
    invoice_description: str | None = None


class Service(Entity):
    entity = "Services"

    name: str | None = None
    description: str | None = None
    billing_code_id: int | None = None
    period_type: int | None = None
    unit_price: float | None = None
    unit_cost: float | None = None
    is_active: bool | None = None
    service_level_agreement_id: int | None = None


class ConfigurationItem(Entity):
    entity = "ConfigurationItems"

    company_id: int | None = None
    product_id: int | None = None
    is_active: bool | None = None
    reference_title: str | None = None
    serial_number: str | None = None
    configuration_item_type: int | None = None
    contract_id: int | None = None
    contract_service_id: int | None = None
    service_id: int | None = None
    service_level_agreement_id: int | None = None


class TaxRegion(Entity):
    entity = "TaxRegions"

    name: str | None = None
    is_active: bool | None = None


class InvoiceTemplate(Entity):
    entity = "InvoiceTemplates"

    name: str | None = None
    payment_terms: int | None = None


class Country(Entity):
    entity = "Countries"

    name: str | None = None
    display_name: str | None = None
    country_code: str | None = None
    is_active: bool | None = None
    is_default_country: bool | None = None


class CompanyLocation(Entity):
    entity = "CompanyLocations"
    parent = ("Companies", "Locations", "company_id")

    company_id: int | None = None
    name: str | None = None
    is_primary: bool | None = None
    is_active: bool | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country_id: int | None = None


class CompanyNote(Entity):
    entity = "CompanyNotes"
    parent = ("Companies", "Notes", "company_id")

    company_id: int | None = None
    name: str | None = None
    note: str | None = None
    action_type: int | None = None
    assigned_resource_id: int | None = None
    contact_id: int | None = None
    start_date_time: datetime | None = None
    end_date_time: datetime | None = None
    completed_date_time: datetime | None = None  # set by Autotask, read-only


class CompanyToDo(Entity):
    entity = "CompanyToDos"
    parent = ("Companies", "ToDos", "company_id")

    company_id: int | None = None
    action_type: int | None = None
    activity_description: str | None = None
    assigned_to_resource_id: int | None = None
    start_date_time: datetime | None = None
    end_date_time: datetime | None = None
    completed_date: datetime | None = None
    contact_id: int | None = None


class CompanyWebhook(Entity):
    """A company webhook: where Autotask posts callouts, and the key it signs them with."""

    entity = "CompanyWebhooks"

    name: str | None = None
    webhook_url: str | None = None
    deactivation_url: str | None = None
    secret_key: str | None = Field(default=None, repr=False)  # never in logs or reprs
    is_active: bool | None = None
    is_ready: bool | None = None  # set by Autotask
    is_subscribed_to_create_events: bool | None = None
    is_subscribed_to_update_events: bool | None = None
    is_subscribed_to_delete_events: bool | None = None
    notification_email_address: str | None = None
    send_threshold_exceeded_notification: bool | None = None
    owner_resource_id: int | None = None
    webhook_guid: str | None = Field(default=None, alias="webhookGUID")


class CompanyWebhookField(Entity):
    """A Companies field (``fieldID``) a webhook watches, or always adds to the payload."""

    entity = "CompanyWebhookFields"
    parent = ("CompanyWebhooks", "Fields", "webhook_id")

    webhook_id: int | None = None
    field_id: int | None = None
    is_subscribed_field: bool | None = None
    is_display_always_field: bool | None = None


ALL_MODELS: tuple[type[Entity], ...] = (
    Company, Contact, ClientPortalUser, CompanyTeam, Resource, Contract, ContractService, Service,
    ConfigurationItem, TaxRegion, InvoiceTemplate, Country, CompanyLocation, CompanyNote, CompanyToDo,
    CompanyWebhook, CompanyWebhookField,
)  # fmt: skip
