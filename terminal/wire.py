"""One typed model per wire contract: the base class and the JSON Schema each model produces.

Every message the terminal sends or accepts (the result, commands, replies) is a pydantic model derived from
:class:`WireModel`; the documentation shows the schema the model generates (:func:`json_schema`) and a test
checks that the page is not stale. To add a field, add it to the model: the schema, the docs and the
validation follow.

Two kinds of optional field, by one rule:

- declared **without a default** (``reason: str | None``): always on the wire, ``null`` when unknown;
- declared **with a default of None** and typed ``X | SkipJsonSchema[None]`` (``embedding``): left off the wire
  when None and shown in the schema as an optional ``X`` (never ``null``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

DRAFT = "https://json-schema.org/draft/2020-12/schema"


class WireModel(BaseModel):
    """Base of every wire payload: unknown keys refused, JSON dumped by alias, absent optionals left off."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    def wire(self) -> dict[str, Any]:
        """The JSON-ready dict sent on the wire (aliases, optional fields that are None left off)."""
        return self._strip(self.model_dump(mode="json", by_alias=True))

    def _strip(self, data: dict[str, Any]) -> dict[str, Any]:
        fields = type(self).model_fields
        for name, info in fields.items():
            key = info.alias or name
            value = getattr(self, name)
            if value is None and not info.is_required():
                data.pop(key, None)
            elif isinstance(value, WireModel) and isinstance(data.get(key), dict):
                data[key] = value._strip(data[key])
            elif isinstance(value, list) and isinstance(data.get(key), list):
                data[key] = [
                    v._strip(d) if isinstance(v, WireModel) else d for v, d in zip(value, data[key], strict=True)
                ]
        return data


class _Generator(GenerateJsonSchema):
    """pydantic's generator without the noise: no auto-generated titles and no ``default`` values."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def field_is_required(self, field: Any, total: bool) -> bool:
        inner = field["schema"]
        if self.mode == "serialization" and inner["type"] == "default" and inner.get("default") is not None:
            return True  # always on the wire (a constant such as the schema id), so required for a consumer
        return super().field_is_required(field, total)

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])


def _drop_model_titles(node: Any) -> None:
    if isinstance(node, dict):
        if "properties" in node and isinstance(node.get("title"), str) and node.get("type") == "object":
            del node["title"]
        for value in node.values():
            _drop_model_titles(value)
    elif isinstance(node, list):
        for value in node:
            _drop_model_titles(value)


def json_schema(model: type[BaseModel], *, schema_id: str, title: str, mode: str = "serialization") -> dict[str, Any]:
    """The draft 2020-12 JSON Schema of ``model`` as the docs show it (``$id``, title, sorted ``$defs``)."""
    body = model.model_json_schema(
        by_alias=True, schema_generator=_Generator, mode="serialization" if mode == "serialization" else "validation"
    )
    _drop_model_titles(body)
    head: dict[str, Any] = {"$schema": DRAFT, "$id": schema_id, "title": title}
    if "description" in body:
        head["description"] = body.pop("description")
    defs = body.pop("$defs", None)
    out = {**head, **body}
    if defs:
        out["$defs"] = dict(sorted(defs.items()))
    return out
