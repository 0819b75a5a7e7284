"""What the sandbox tenant knows about each entity: fields, picklists, capabilities, write paths.

Every field name and type is one Autotask's published OpenAPI lists for that entity
(``tests/data/autotask-entities*.json``; ``tests/services/autotask/test_conformance.py`` holds the
schema to it, so a field Autotask does not have cannot creep in). Required-ness, read-only flags
and lengths come from Autotask's entity help pages (see docs/autotask-facts.md). Picklist ids are
this sandbox tenant's own, as on a real tenant: nothing in the product may rely on them; it maps
labels to ids through ``entityInformation/fields``.
"""

from __future__ import annotations

from dataclasses import replace

from services.autotask.sandbox.fields import (
    BOOL,
    DEC,
    DT,
    INT,
    LONG,
    EntitySpec,
    F,
    FieldSpec,
    Pick,
)
from services.autotask.sandbox.fields import picks as _p
from services.autotask.sandbox.schema_webhooks import COMPANY_WEBHOOK_FIELD_IDS, WEBHOOK_ENTITIES

__all__ = ["CHILD_PATHS", "ENTITIES", "EntitySpec", "FieldSpec", "Pick"]

COMPANY_TYPES = _p(
    (1, "Customer"),
    (2, "Lead"),
    (3, "Prospect"),
    (4, "Dead"),
    (6, "Cancellation"),
    (7, "Vendor"),
    (8, "Partner"),
)
INVOICE_METHODS = _p((1, "E-mail"), (2, "Print"), (3, "E-mail and Print"))
BILL_TO_ADDRESS = _p(
    (1, "Use Company Address"),
    (2, "Use Parent Company Address"),
    (3, "Use Other Address"),
    (4, "Use Company Location Address"),
)
SLAS = _p(
    (1, "Standard 8x5"),
    (2, "Premium 24x7"),
    (3, "Break/Fix Best Effort"),
    (4, "Healthcare Priority"),
)
CONTRACT_TYPES = _p(
    (1, "Time & Materials"),
    (3, "Fixed Price"),
    (4, "Block Hours"),
    (6, "Retainer"),
    (7, "Recurring Service"),
    (8, "Per Ticket"),
)
CONTRACT_STATUS = _p((0, "Inactive"), (1, "Active"))
CONTRACT_PERIODS = _p((1, "Monthly"), (2, "Quarterly"), (3, "Semi-Annual"), (4, "Yearly"))
CONTRACT_CATEGORIES = _p((1, "Standard"), (2, "Managed Services"), (3, "Project"))
PORTAL_SECURITY = _p(
    (1, "Client Portal User"),
    (2, "Client Portal Manager"),
    (3, "Client Portal Administrator"),
    (4, "Taskfire Resource"),
    (5, "Taskfire Administrator"),
)
DATE_FORMATS = _p((1, "MM/dd/yyyy"), (2, "dd/MM/yyyy"), (3, "yyyy-MM-dd"), (4, "dd.MM.yyyy"))
NUMBER_FORMATS = _p((1, "X,XXX.XX"), (2, "X.XXX,XX"), (3, "X XXX,XX"))
TIME_FORMATS = _p((1, "hh:mm a"), (2, "HH:mm"))
ACTION_TYPES = _p(
    (1, "General"),
    (2, "Phone Call"),
    (3, "Meeting"),
    (4, "E-mail"),
    (5, "Onboarding"),
    (6, "Billing Follow-up"),
)
LICENSE_TYPES = _p(
    (1, "Professional"),
    (2, "Team Member"),
    (3, "Dashboard User"),
    (7, "API User (system)"),
)
CI_TYPES = _p((1, "Workstation"), (2, "Server"), (3, "Network Device"), (4, "Printer"))
SERVICE_PERIODS = _p((1, "Monthly"), (2, "Quarterly"), (3, "Yearly"))

_SYSTEM = (F("createDate", DT, read_only=True), F("lastActivityDate", DT, read_only=True))


def _webhook_supported(fields: tuple[FieldSpec, ...]) -> tuple[FieldSpec, ...]:
    """Flag the fields this tenant lets a company webhook watch (``isSupportedWebhookField``)."""
    return tuple(replace(f, webhook=f.name in COMPANY_WEBHOOK_FIELD_IDS) for f in fields)


ENTITIES: dict[str, EntitySpec] = {
    spec.name.lower(): spec
    for spec in (
        EntitySpec(
            "Companies",
            _webhook_supported(
                (
                    F("id", LONG, read_only=True),
                    F("companyName", required=True, length=100),
                    F("companyType", INT, required=True, picklist=COMPANY_TYPES),
                    F("companyNumber", length=50),
                    F("ownerResourceID", INT, required=True, reference="Resources"),
                    F("phone", required=True, length=25),
                    F("isActive", BOOL),
                    F("isTaskFireActive", BOOL),
                    F("isClientPortalActive", BOOL),
                    F("parentCompanyID", INT, reference="Companies"),
                    F("address1", length=128),
                    F("address2", length=128),
                    F("city", length=30),
                    F("state", length=40),
                    F("postalCode", length=10),
                    F("countryID", INT, reference="Countries"),
                    F("webAddress", length=255),
                    F("invoiceTemplateID", INT, reference="InvoiceTemplates"),
                    F("invoiceMethod", INT, picklist=INVOICE_METHODS),
                    F("taxRegionID", INT, reference="TaxRegions"),
                    F("taxID", length=50),
                    F("isTaxExempt", BOOL),
                    F("invoiceNonContractItemsToParentCompany", BOOL),
                    F("billToAddressToUse", INT, picklist=BILL_TO_ADDRESS),
                    F("billToCompanyLocationID", INT, reference="CompanyLocations"),
                    F("billingAddress1", length=150),
                    F("billingAddress2", length=150),
                    F("billToCity", length=50),
                    F("billToState", length=50),
                    F("billToZipCode", length=10),
                    F("billToCountryID", INT, reference="Countries"),
                    F("billToAttention", length=50),
                    F("lastTrackedModifiedDateTime", DT, read_only=True),
                    *_SYSTEM,
                )
            ),
        ),
        EntitySpec(
            "Contacts",
            (
                F("id", LONG, read_only=True),
                F("companyID", INT, required=True, reference="Companies"),
                F("firstName", required=True, length=50),
                F("lastName", required=True, length=50),
                F("emailAddress", length=254),
                F("phone", length=25),
                F("title", length=50),
                F("isActive", INT, required=True),
                F("primaryContact", BOOL),
                *_SYSTEM,
            ),
            can_delete=True,
            parent=("Companies", "Contacts", "companyID"),
        ),
        EntitySpec(
            "ClientPortalUsers",
            (
                F("id", LONG, read_only=True),
                F("contactID", INT, required=True, reference="Contacts"),
                F("userName", required=True, length=200),
                F("password", required=True, length=50, queryable=False),
                F("securityLevel", INT, required=True, picklist=PORTAL_SECURITY),
                F("dateFormat", INT, required=True, picklist=DATE_FORMATS),
                F("numberFormat", INT, required=True, picklist=NUMBER_FORMATS),
                F("timeFormat", INT, required=True, picklist=TIME_FORMATS),
                F("isClientPortalActive", BOOL, required=True),
            ),
        ),
        EntitySpec(
            "CompanyTeams",
            (
                F("id", LONG, read_only=True),
                F("companyID", LONG, required=True, reference="Companies"),
                F("resourceID", LONG, required=True, reference="Resources"),
                F("isAssociatedAsComanaged", BOOL),
            ),
            can_update=False,
            can_delete=True,
            parent=("Companies", "Teams", "companyID"),
        ),
        EntitySpec(
            "Resources",
            (
                F("id", LONG, read_only=True),
                F("firstName", required=True, length=50),
                F("lastName", required=True, length=50),
                F("email", required=True, length=254),
                F("email2", length=254),
                F("email3", length=254),
                F("userName", length=32),
                F("title", length=50),
                F("isActive", BOOL, required=True),
                F("licenseType", INT, picklist=LICENSE_TYPES),
                F("resourceType", length=20),
            ),
            can_create=False,
        ),
        EntitySpec(
            "Contracts",
            (
                F("id", LONG, read_only=True),
                F("companyID", INT, required=True, reference="Companies"),
                F("contractName", required=True, length=100),
                F("contractType", INT, required=True, picklist=CONTRACT_TYPES),
                F("contractCategory", INT, picklist=CONTRACT_CATEGORIES),
                F("contractPeriodType", INT, picklist=CONTRACT_PERIODS),
                F("status", INT, required=True, picklist=CONTRACT_STATUS),
                F("startDate", DT, required=True),
                F("endDate", DT, required=True),
                F("serviceLevelAgreementID", INT, picklist=SLAS),
                F("timeReportingRequiresStartAndStopTimes", INT, required=True),
                F("description", length=2000),
                F("contactID", INT, reference="Contacts"),
                F("isDefaultContract", BOOL),
                F("setupFee", DEC),
            ),
        ),
        EntitySpec(
            "ContractServices",
            (
                F("id", LONG, read_only=True),
                F("contractID", INT, required=True, reference="Contracts"),
                F("serviceID", INT, required=True, reference="Services"),
                F("unitPrice", DEC),
                F("unitCost", DEC),
                F("invoiceDescription", length=1000),
            ),
            parent=("Contracts", "Services", "contractID"),
        ),
        EntitySpec(
            "ContractServiceUnits",
            (
                F("id", LONG, read_only=True),
                F("contractID", INT, read_only=True),
                F("contractServiceID", INT, read_only=True),
                F("serviceID", INT, read_only=True),
                F("units", INT, read_only=True),
                F("startDate", DT, read_only=True),
                F("endDate", DT, read_only=True),
            ),
            can_create=False,
            can_update=False,
        ),
        EntitySpec(
            "ContractServiceAdjustments",
            (
                F("id", LONG, read_only=True),
                F("contractID", INT, required=True, reference="Contracts"),
                F("serviceID", INT, reference="Services"),
                F("contractServiceID", INT, reference="ContractServices"),
                F("effectiveDate", DT, required=True),
                F("unitChange", INT),
                F("adjustedUnitPrice", DEC),
            ),
            can_update=False,
            can_query=False,
            parent=("Contracts", "ServiceAdjustments", "contractID"),
        ),
        EntitySpec(
            "Services",
            (
                F("id", LONG, read_only=True),
                F("name", required=True, length=150),
                F("description", length=400),
                F("billingCodeID", INT, required=True),
                F("periodType", INT, required=True, picklist=SERVICE_PERIODS),
                F("unitPrice", DEC, required=True),
                F("unitCost", DEC),
                F("isActive", BOOL),
                F("serviceLevelAgreementID", LONG, picklist=SLAS),
            ),
        ),
        EntitySpec(
            "ConfigurationItems",
            (
                F("id", LONG, read_only=True),
                F("companyID", INT, required=True, reference="Companies"),
                F("productID", INT, required=True),
                F("isActive", BOOL, required=True),
                F("referenceTitle", length=200),
                F("serialNumber", length=100),
                F("configurationItemType", INT, picklist=CI_TYPES),
                F("contractID", INT, reference="Contracts"),
                F("contractServiceID", INT, reference="ContractServices"),
                F("serviceID", INT, reference="Services"),
                F("serviceLevelAgreementID", INT, picklist=SLAS),
            ),
        ),
        EntitySpec(
            "TaxRegions",
            (
                F("id", LONG, read_only=True),
                F("name", required=True, length=200),
                F("isActive", BOOL),
            ),
        ),
        EntitySpec(
            "InvoiceTemplates",
            (
                F("id", LONG, read_only=True),
                F("name", read_only=True, length=50),
                F("paymentTerms", INT, read_only=True),
            ),
            can_create=False,
            can_update=False,
        ),
        EntitySpec(
            "Countries",
            (
                F("id", LONG, read_only=True),
                F("name", read_only=True, length=100),
                F("displayName", length=100),
                F("countryCode", read_only=True, length=2),
                F("isActive", BOOL),
                F("isDefaultCountry", BOOL),
            ),
            can_create=False,
        ),
        EntitySpec(
            "CompanyLocations",
            (
                F("id", LONG, read_only=True),
                F("companyID", INT, required=True, reference="Companies"),
                F("name", required=True, length=100),
                F("isPrimary", BOOL),
                F("isActive", BOOL),
                F("address1", length=100),
                F("address2", length=100),
                F("city", length=50),
                F("state", length=25),
                F("postalCode", length=20),
                F("countryID", INT, reference="Countries"),
            ),
            can_delete=True,
            parent=("Companies", "Locations", "companyID"),
        ),
        EntitySpec(
            "CompanyNotes",
            (
                F("id", LONG, read_only=True),
                F("companyID", INT, required=True, reference="Companies"),
                F("actionType", INT, required=True, picklist=ACTION_TYPES),
                F("assignedResourceID", INT, required=True, reference="Resources"),
                F("startDateTime", DT, required=True),
                F("endDateTime", DT, required=True),
                F("name", length=128),
                F("note", length=32000),
                F("contactID", INT, reference="Contacts"),
                F("completedDateTime", DT, read_only=True),
                F("createDateTime", DT, read_only=True),
                F("lastModifiedDate", DT, read_only=True),
            ),
            parent=("Companies", "Notes", "companyID"),
        ),
        EntitySpec(
            "CompanyToDos",
            (
                F("id", LONG, read_only=True),
                F("companyID", LONG, required=True, reference="Companies"),
                F("actionType", INT, required=True, picklist=ACTION_TYPES),
                F("activityDescription", length=32000),
                F("assignedToResourceID", LONG, required=True, reference="Resources"),
                F("startDateTime", DT, required=True),
                F("endDateTime", DT, required=True),
                F("completedDate", DT),
                F("contactID", LONG, reference="Contacts"),
            ),
            can_delete=True,
            parent=("Companies", "ToDos", "companyID"),
        ),
        *WEBHOOK_ENTITIES,
    )
}

CHILD_PATHS: dict[tuple[str, str], str] = {
    (spec.parent[0].lower(), spec.parent[1].lower()): spec.name
    for spec in ENTITIES.values()
    if spec.parent
}
