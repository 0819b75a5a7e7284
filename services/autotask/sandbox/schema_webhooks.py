"""The company webhook entities of the sandbox: CompanyWebhooks and its Fields and ExcludedResources.

Fields and types are the published OpenAPI's (``tests/data/autotask-entities-supplement.json``);
lengths, required and read-only flags come from Autotask's help page
``Webhooks/REST_WebhooksEntity.htm`` and its SOAP twin (see docs/autotask-facts.md).

``COMPANY_WEBHOOK_FIELD_IDS`` is this tenant's ``fieldID`` picklist of
``CompanyWebhookFields/entityInformation/fields``: the Companies fields a webhook may watch, labelled
with their REST names, as Autotask's help says the company webhook fields are. Three ids are the
ones Autotask's own examples use (7 Company Name and 24 Company Type in the REST Postman
collection, 13 the zip code in the SOAP sample); the rest are this tenant's. The product never
hard-codes them: it matches the labels.
"""

from __future__ import annotations

from services.autotask.sandbox.fields import BOOL, INT, LONG, EntitySpec, F, Pick

COMPANY_WEBHOOK_FIELD_IDS: dict[str, int] = {
    "isActive": 3, "companyNumber": 5, "companyName": 7, "address1": 9, "address2": 10,
    "city": 11, "state": 12, "postalCode": 13, "countryID": 14, "phone": 15, "webAddress": 17,
    "ownerResourceID": 22, "companyType": 24, "parentCompanyID": 30, "isTaskFireActive": 40,
    "isClientPortalActive": 41, "invoiceTemplateID": 60, "invoiceMethod": 61, "taxRegionID": 62,
    "taxID": 63, "isTaxExempt": 64, "invoiceNonContractItemsToParentCompany": 65,
    "billToAddressToUse": 70, "billToCompanyLocationID": 71, "billingAddress1": 72,
    "billingAddress2": 73, "billToCity": 74, "billToState": 75, "billToZipCode": 76,
    "billToCountryID": 77, "billToAttention": 78,
}  # fmt: skip

COMPANY_WEBHOOK_FIELDS = tuple(
    Pick(value, name)
    for name, value in sorted(COMPANY_WEBHOOK_FIELD_IDS.items(), key=lambda i: i[1])
)

WEBHOOK_ENTITIES: tuple[EntitySpec, ...] = (
    EntitySpec(
        "CompanyWebhooks",
        (
            F("id", LONG, read_only=True),
            F("name", required=True, length=50),
            F("webhookUrl", required=True, length=500),
            F("deactivationUrl", required=True, length=500),
            # write-only here, like a password: the sandbox never returns it (an assumption)
            F("secretKey", required=True, length=64, queryable=False),
            F("isActive", BOOL, required=True),
            F("isReady", BOOL, read_only=True),
            F("isSubscribedToCreateEvents", BOOL),
            F("isSubscribedToUpdateEvents", BOOL),
            F("isSubscribedToDeleteEvents", BOOL),
            F("notificationEmailAddress", length=150),
            F("sendThresholdExceededNotification", BOOL, required=True),
            F("ownerResourceID", INT, read_only=True, reference="Resources"),
            F("webhookGUID", read_only=True, length=100),
        ),
        can_delete=True,
    ),
    EntitySpec(
        "CompanyWebhookFields",
        (
            F("id", LONG, read_only=True),
            F("webhookID", INT, required=True, reference="CompanyWebhooks"),
            F("fieldID", INT, required=True, picklist=COMPANY_WEBHOOK_FIELDS),
            F("isSubscribedField", BOOL),
            F("isDisplayAlwaysField", BOOL),
        ),
        can_delete=True,
        parent=("CompanyWebhooks", "Fields", "webhookID"),
    ),
    EntitySpec(
        "CompanyWebhookExcludedResources",
        (
            F("id", LONG, read_only=True),
            F("webhookID", INT, required=True, reference="CompanyWebhooks"),
            F("resourceID", INT, required=True, reference="Resources"),
        ),
        can_update=False,
        can_delete=True,
        parent=("CompanyWebhooks", "ExcludedResources", "webhookID"),
    ),
)
