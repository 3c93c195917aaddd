"""``order_by_fields`` as the embedded client takes it, spelled as pymilvus sends it."""

from __future__ import annotations

from typing import Any

from elanus.errors import ParameterError

__all__ = ["order_by_text"]


def order_by_text(value: Any) -> str:
    """[{"field": "price", "order": "desc"}, ...] (or a ready string) as "price:desc,..."."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    parts = []
    for item in value:
        if not isinstance(item, dict):
            raise ParameterError(
                "Invalid order_by_fields item format, expect dict with 'field' and 'order' "
                f"keys, got {type(item)}"
            )
        name = item.get("field")
        if not name:
            raise ParameterError(
                "Invalid order_by_fields item: 'field' key is required and cannot be empty"
            )
        parts.append(f"{name}:{item.get('order', 'asc')}")
    return ",".join(parts)
