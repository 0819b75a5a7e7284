"""The building blocks of the sandbox's schema: fields, picklist values, entities.

Kept apart from ``schema.py`` (which lists the entities) so that groups of entities, such as the
webhook entities in ``schema_webhooks.py``, can be described in modules of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Pick:
    value: int
    label: str
    is_active: bool = True
    is_default: bool = False


@dataclass(frozen=True)
class FieldSpec:
    name: str
    data_type: str = "string"
    required: bool = False
    read_only: bool = False
    length: int | None = None
    picklist: tuple[Pick, ...] = ()
    reference: str | None = None
    queryable: bool = True
    webhook: bool = False  # isSupportedWebhookField: may trigger a webhook callout

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dataType": self.data_type,
            "length": self.length or 0,
            "isRequired": self.required,
            "isReadOnly": self.read_only,
            "isQueryable": self.queryable,
            "isReference": self.reference is not None,
            "referenceEntityType": self.reference or "",
            "isPickList": bool(self.picklist),
            "picklistValues": [
                {
                    "value": str(p.value),
                    "label": p.label,
                    "isDefaultValue": p.is_default,
                    "sortOrder": i,
                    "parentValue": "",
                    "isActive": p.is_active,
                    "isSystem": True,
                }
                for i, p in enumerate(self.picklist)
            ]
            if self.picklist
            else None,
            "picklistParentValueField": "",
            "isSupportedWebhookField": self.webhook,
        }


@dataclass(frozen=True)
class EntitySpec:
    name: str
    fields: tuple[FieldSpec, ...]
    can_create: bool = True
    can_update: bool = True
    can_delete: bool = False
    can_query: bool = True
    # (parent entity, path segment, foreign-key field) where creates and updates must go
    parent: tuple[str, str, str] | None = None
    by_name: dict[str, FieldSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name.lower(): f for f in self.fields})

    def field(self, name: str) -> FieldSpec | None:
        return self.by_name.get(name.lower())

    def info(self) -> dict[str, Any]:
        access = 1 if self.can_create else 0
        return {
            "name": self.name,
            "canCreate": self.can_create,
            "canDelete": self.can_delete,
            "canQuery": self.can_query,
            "canUpdate": self.can_update,
            "userAccessForCreate": access,
            "userAccessForDelete": 1 if self.can_delete else 0,
            "userAccessForQuery": 1,
            "userAccessForUpdate": 1 if self.can_update else 0,
            "hasUserDefinedFields": self.name in {"Companies", "Contacts", "Contracts"},
            "supportsWebhookCallouts": self.name in {"Companies", "Contacts", "ConfigurationItems"},
        }


def picks(*labels: tuple[int, str]) -> tuple[Pick, ...]:
    return tuple(Pick(v, label) for v, label in labels)


# entityInformation dataType names for the OpenAPI formats string, int32, int64, boolean,
# date-time and double
S, INT, LONG, BOOL, DT, DEC = "string", "integer", "long", "boolean", "datetime", "double"


def F(name: str, data_type: str = S, **kw: Any) -> FieldSpec:
    return FieldSpec(name, data_type, **kw)
