"""A believable MSP tenant, "Brightline IT", generated deterministically.

What tests and demos rely on (by name, never by id):
- resources: 44 with e-mails, incl. billing administrators (title "Billing Administrator"),
  inactive ones, and the API-only user the bot runs as;
- companies: the MSP itself, prospects and leads to onboard ("Acme Dental" has 24 devices),
  a parent ("Harbor Group") with three sites, "Metro Health Partners" with 1,200 contacts,
  customers already onboarded, vendors;
- tax regions, invoice templates, countries, recurring services, contracts, locations.
"""

from __future__ import annotations

import random
from typing import Any

from services.autotask.sandbox.rules import API_ONLY_LICENSE, Record
from services.autotask.sandbox.tenant import ApiUser, Tenant

SANDBOX_USERNAME = "onboarding-bot@brightline-it.example"
SANDBOX_SECRET = "sandbox-secret-not-for-production"  # noqa: S105 (the built-in sandbox's own)
SANDBOX_INTEGRATION_CODE = "SANDBOX-ONBOARDING-BOT"
EMAIL_DOMAIN = "brightline-it.example"

_FIRST = [
    "Ana", "Ben", "Carla", "Diego", "Elena", "Farid", "Grace", "Hugo", "Iris", "Jonas", "Kira",
    "Luis", "Maya", "Nate", "Olga", "Pablo", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Victor",
    "Wendy", "Xavier", "Yara", "Zane", "Alma", "Bruno", "Celia", "Dario", "Eva", "Felix",
    "Gloria", "Hector", "Ines", "Jorge", "Lucia", "Marco", "Nora", "Oscar",
]  # fmt: skip
_LAST = [
    "Alvarez", "Brooks", "Castro", "Dunn", "Estrada", "Fischer", "Garcia", "Hughes", "Ibarra",
    "Jensen", "Kowalski", "Lopez", "Moreno", "Nguyen", "Ortega", "Patel", "Quiroga", "Rivera",
    "Silva", "Torres", "Underwood", "Vargas", "Walsh", "Young", "Zamora",
]  # fmt: skip
_TITLES = ["Technician", "Senior Technician", "Service Desk", "Network Engineer", "Dispatcher"]


def _ts(year: int, month: int, day: int) -> str:
    return f"{year:04d}-{month:02d}-{day:02d}T00:00:00Z"


def build_tenant(*, seed: int = 7) -> Tenant:
    rng = random.Random(seed)
    r: dict[str, dict[int, Record]] = {}

    def add(entity: str, row: dict[str, Any]) -> int:
        table = r.setdefault(entity.lower(), {})
        row_id = int(row["id"]) if "id" in row else max(table, default=0) + 1
        row["id"] = row_id
        table[row_id] = row
        return row_id

    # Resources ----------------------------------------------------------------------------
    api_user_id = add("Resources", {
        "id": 29682885, "firstName": "Onboarding", "lastName": "Bot", "email": SANDBOX_USERNAME,
        "userName": "onboardbot", "title": "API integration", "isActive": True,
        "licenseType": API_ONLY_LICENSE, "resourceType": "Employee",
    })  # fmt: skip
    people = [
        ("Marta", "Ruiz", "Service Manager"), ("Dan", "Okafor", "Service Manager"),
        ("Beatriz", "Lima", "Billing Administrator"), ("Tom", "Keller", "Billing Administrator"),
        ("Sofia", "Mendez", "Dispatcher"), ("Raj", "Iyer", "Account Manager"),
        ("Claire", "Dubois", "Account Manager"),
    ]  # fmt: skip
    used: set[tuple[str, str]] = set()
    for first, last, title in people:
        used.add((first, last))
        add("Resources", _resource(first, last, title, 1))
    while len(r["resources"]) < 44:
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        if (first, last) in used:
            continue
        used.add((first, last))
        active = len(r["resources"]) % 13 != 0
        add("Resources", _resource(first, last, rng.choice(_TITLES), 1 if active else 2, active))
    owner_ids = [i for i, x in r["resources"].items() if x["title"] == "Account Manager"]

    # Lookups ------------------------------------------------------------------------------
    countries = {}
    for cid, name, code in [
        (237, "United States", "US"), (38, "Canada", "CA"), (142, "Mexico", "MX"),
        (205, "Spain", "ES"), (236, "United Kingdom", "GB"), (83, "Germany", "DE"),
        (10, "Argentina", "AR"), (48, "Colombia", "CO"), (44, "Chile", "CL"),
        (13, "Australia", "AU"),
    ]:  # fmt: skip
        countries[code] = add("Countries", {
            "id": cid, "name": name, "displayName": name, "countryCode": code, "isActive": True,
            "isDefaultCountry": code == "US",
        })  # fmt: skip
    for name in ["Texas State + Local 8.25%", "California 7.25%", "New York 8.875%",
                 "Florida 6%", "Ontario HST 13%", "Spain IVA 21%", "Mexico IVA 16%",
                 "Tax Exempt (non-profit)"]:  # fmt: skip
        add("TaxRegions", {"name": name, "isActive": True})
    for name, terms in [("Standard Invoice", 30), ("Managed Services Invoice", 15),
                        ("Detailed T&M Invoice", 30), ("Factura estándar (ES)", 30)]:  # fmt: skip
        add("InvoiceTemplates", {"name": name, "paymentTerms": terms})
    services = {}
    for name, price, sla in [
        ("Managed Workstation", 45.0, 1), ("Managed Server", 180.0, 2),
        ("Firewall Management", 95.0, 2), ("Backup per TB", 60.0, 1),
        ("Microsoft 365 Seat", 22.0, 1), ("Network Switch Monitoring", 25.0, 1),
        ("Endpoint Security", 9.5, 1), ("After-hours Support Add-on", 300.0, 2),
    ]:  # fmt: skip
        services[name] = add("Services", {
            "name": name, "billingCodeID": 29682801, "periodType": 1, "unitPrice": price,
            "unitCost": round(price * 0.4, 2), "isActive": True, "serviceLevelAgreementID": sla,
        })  # fmt: skip

    # Companies ----------------------------------------------------------------------------
    def company(name: str, ctype: int, **extra: Any) -> int:
        cid = add("Companies", {
            "companyName": name, "companyType": ctype, "ownerResourceID": rng.choice(owner_ids),
            "phone": f"+1 512 555 {rng.randint(1000, 9999)}", "isActive": True,
            "isTaskFireActive": False, "isClientPortalActive": True,
            "address1": f"{rng.randint(10, 9999)} {rng.choice(['Oak', 'Main', 'Lamar', 'Congress'])} St",
            "city": "Austin", "state": "TX", "postalCode": f"78{rng.randint(100, 799)}",
            "countryID": countries["US"], "createDate": _ts(2025, rng.randint(1, 12), rng.randint(1, 28)),
            **extra,
        })  # fmt: skip
        add("CompanyLocations", {
            "companyID": cid, "name": "Main office", "isPrimary": True, "isActive": True,
            "address1": r["companies"][cid]["address1"], "city": r["companies"][cid]["city"],
            "state": "TX", "postalCode": r["companies"][cid]["postalCode"],
            "countryID": countries["US"],
        })  # fmt: skip
        return cid

    company("Brightline IT", 1, id=0)  # the MSP's own company is id 0 in every tenant
    prospects = ["Acme Dental", "Blue Ridge Logistics", "Cedar & Pine Law", "Delta Print Works",
                 "Evergreen Montessori", "Fjord Outdoor Supply", "Granite Peak Engineering",
                 "Clínica San Rafael"]  # fmt: skip
    leads = ["Hillside Veterinary", "Ironwood Brewing Co", "Juniper Architects"]
    customers = ["Keystone Credit Union", "Lakeside Realty", "Maple Street Bakery",
                 "Northwind Traders", "Orchard Family Dental", "Pioneer Freight",
                 "Quarry Stone Supply", "Riverbend Clinic", "Summit Accounting"]  # fmt: skip
    for name in prospects:
        company(name, 3)
    for name in leads:
        company(name, 2)
    for name in customers:
        company(
            name,
            1,
            invoiceTemplateID=1,
            taxRegionID=1,
            taxID=f"74-{rng.randint(1000000, 9999999)}",
            billToAddressToUse=1,
            billToAttention="Accounts Payable",
            isTaxExempt=False,
        )
    harbor = company(
        "Harbor Group",
        1,
        invoiceTemplateID=2,
        taxRegionID=1,
        taxID="74-5550101",
        billToAddressToUse=1,
        billToAttention="Harbor AP Department",
    )
    for site in ["Harbor Group - Galveston", "Harbor Group - Corpus Christi",
                 "Harbor Group - Port Aransas"]:  # fmt: skip
        company(
            site,
            1,
            parentCompanyID=harbor,
            invoiceNonContractItemsToParentCompany=True,
            billToAddressToUse=2,
            invoiceTemplateID=2,
            taxRegionID=1,
        )
    metro = company(
        "Metro Health Partners",
        1,
        invoiceTemplateID=2,
        taxRegionID=3,
        taxID="13-5550199",
        billToAddressToUse=1,
        billToAttention="Finance Office",
    )
    for name in ["Dell Technologies (vendor)", "Ingram Micro (vendor)", "Pax8 (vendor)"]:
        company(name, 7)
    company("Tumbleweed Cafe", 4, isActive=False)
    company("Upland Surveyors", 6)

    # Contacts -----------------------------------------------------------------------------
    for cid, row in sorted(r["companies"].items()):
        if cid == 0:
            continue
        n = 1200 if cid == metro else rng.randint(3, 8)
        domain = "".join(ch for ch in row["companyName"].lower() if ch.isalnum())[:18] + ".example"
        for i in range(n):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            add("Contacts", {
                "companyID": cid, "firstName": first, "lastName": last,
                "emailAddress": f"{first}.{last}{i}@{domain}".lower(),
                "phone": f"+1 512 555 {rng.randint(1000, 9999)}",
                "title": rng.choice(["Office Manager", "Owner", "Controller", "IT Lead", "Staff"]),
                "isActive": 1, "primaryContact": i == 0 and row["companyType"] == 1,
            })  # fmt: skip

    # Devices ------------------------------------------------------------------------------
    for cid, row in sorted(r["companies"].items()):
        if row["companyType"] not in (1, 3) or cid in (0, metro):
            continue
        count = 24 if row["companyName"] == "Acme Dental" else rng.randint(2, 10)
        for i in range(count):
            kind = 2 if i % 8 == 0 else (3 if i % 8 == 1 else 1)
            prefix = {1: "WS", 2: "SRV", 3: "FW"}[kind]
            add("ConfigurationItems", {
                "companyID": cid, "productID": 100 + kind, "isActive": True,
                "referenceTitle": f"{prefix}-{row['companyName'][:4].upper().strip()}-{i + 1:03d}",
                "serialNumber": f"SN{rng.randint(10**7, 10**8 - 1)}", "configurationItemType": kind,
            })  # fmt: skip

    # Existing contracts for onboarded customers ---------------------------------------------
    for cid, row in sorted(r["companies"].items()):
        if row["companyType"] != 1 or cid == 0:
            continue
        managed = cid % 2 == 0
        contract_id = add("Contracts", {
            "companyID": cid, "contractName": f"{row['companyName']} - "
            + ("Managed Services" if managed else "Time & Materials"),
            "contractType": 7 if managed else 1, "status": 1, "contractPeriodType": 1 if managed else None,
            "startDate": _ts(2026, 1, 1), "endDate": _ts(2026, 12, 31),
            "serviceLevelAgreementID": 1, "timeReportingRequiresStartAndStopTimes": 1,
            "contractCategory": 2 if managed else 1,
        })  # fmt: skip
        if managed:
            add("ContractServices", {
                "contractID": contract_id, "serviceID": services["Managed Workstation"],
                "unitPrice": 45.0, "unitCost": 18.0, "invoiceDescription": "Managed Workstation",
            })  # fmt: skip

    # Teams for onboarded customers ----------------------------------------------------------
    techs = [i for i, x in r["resources"].items() if x["isActive"] and x["licenseType"] == 1]
    for cid, row in sorted(r["companies"].items()):
        if row["companyType"] == 1 and cid != 0:
            for res in rng.sample(techs, 2):
                add(
                    "CompanyTeams",
                    {"companyID": cid, "resourceID": res, "isAssociatedAsComanaged": False},
                )

    return Tenant(
        r,
        api_users=[
            ApiUser(SANDBOX_USERNAME, SANDBOX_SECRET, SANDBOX_INTEGRATION_CODE, api_user_id)
        ],
    )


def _resource(first: str, last: str, title: str, license_type: int, active: bool = True) -> Record:
    return {
        "firstName": first, "lastName": last,
        "email": f"{first}.{last}@{EMAIL_DOMAIN}".lower(),
        "userName": f"{first[0]}{last}".lower()[:32], "title": title, "isActive": active,
        "licenseType": license_type, "resourceType": "Employee",
    }  # fmt: skip
