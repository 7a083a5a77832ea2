"""A small OpenAPI (JSON Schema subset) checker: is an answer what the document promises?

Covers what FastAPI emits for Accord's models: ``$ref``, ``anyOf``, objects with required
properties and ``additionalProperties``, arrays, and the primitive types."""

from __future__ import annotations

from typing import Any

PRIMITIVES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def problems(value: Any, schema: dict[str, Any], spec: dict[str, Any], at: str = "$") -> list[str]:
    """Where ``value`` breaks ``schema`` (empty when it conforms)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return problems(value, spec["components"]["schemas"][name], spec, at)
    if "anyOf" in schema:
        found = [problems(value, s, spec, at) for s in schema["anyOf"]]
        return [] if any(not f for f in found) else [f"{at}: matches no alternative"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if not isinstance(value, dict):
            return [f"{at}: expected an object, got {type(value).__name__}"]
        out = [f"{at}.{k}: missing" for k in schema.get("required", []) if k not in value]
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in props:
                out += problems(item, props[key], spec, f"{at}.{key}")
            elif isinstance(extra, dict):
                out += problems(item, extra, spec, f"{at}.{key}")
        return out
    if kind == "array":
        if not isinstance(value, list):
            return [f"{at}: expected an array, got {type(value).__name__}"]
        item = schema.get("items", {})
        return [p for i, v in enumerate(value) for p in problems(v, item, spec, f"{at}[{i}]")]
    if kind in PRIMITIVES:
        ok = isinstance(value, PRIMITIVES[kind]) and not (
            kind in ("integer", "number") and isinstance(value, bool)
        )
        return [] if ok else [f"{at}: expected {kind}, got {value!r}"]
    return []


def answer_schema(spec: dict[str, Any], method: str, path: str, status: int) -> dict[str, Any]:
    """The documented JSON schema of an answer (empty when none is documented)."""
    answers = spec["paths"][path][method]["responses"]
    documented = answers.get(str(status), {}).get("content", {})
    return dict(documented.get("application/json", {}).get("schema", {}))
