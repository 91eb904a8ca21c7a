"""Retail predicates: what the policy says and the API does not check, decided from the domain state."""

from __future__ import annotations

from collections.abc import Mapping

from m1agent.policies.rules.base import PolicyContext, arg_text

from m1agent.protocol.types import ToolCallPart


def item_change_allowed(call: ToolCallPart, ctx: PolicyContext) -> str | None:
    """Each new item differs from the old one and is an option of the same product."""
    args = call.arguments if isinstance(call.arguments, Mapping) else {}
    order_id = arg_text(args, "order_id")
    order = ctx.view.get("orders", order_id) if order_id else None
    old_ids, new_ids = args.get("item_ids"), args.get("new_item_ids")
    if order is None or not isinstance(old_ids, list) or not isinstance(new_ids, list):
        return None
    products = {
        item.get("item_id"): item.get("product_id")
        for item in order.get("items") or []
        if isinstance(item, Mapping)
    }
    for old, new in zip(old_ids, new_ids, strict=False):
        if old == new:
            return (
                f"Item {old} would be replaced by the identical item, which changes nothing. Ask the user "
                "which option (color, size, ...) they want instead; the new item must differ."
            )
        product_id = products.get(old)
        product = ctx.view.get("products", product_id) if isinstance(product_id, str) else None
        variants = product.get("variants") if product else None
        if product is not None and isinstance(variants, Mapping) and isinstance(new, str) and new not in variants:
            return (
                f"Item {new} is not an option of the same product as item {old} ({product.get('name')}); "
                "an item can only be changed to another option of the same product."
            )
    return None
