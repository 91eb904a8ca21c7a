"""Cost from a configurable price table. Hosted M1 is priced in two tiers by a request's input size;
a self-hosted server may have no price at all, and then cost is ``None``, not zero."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from m1agent.usage import Usage


@dataclass(frozen=True, slots=True)
class PriceTier:
    """Dollars per million tokens for requests of up to ``max_input_tokens`` input tokens.

    Thinking tokens are output tokens and are billed as output.
    """

    max_input_tokens: int
    input_per_million: float
    output_per_million: float
    cached_input_per_million: float | None = None


@dataclass(frozen=True, slots=True)
class Price:
    """A model's tiers, smallest first. The tier is chosen per request, by its input tokens."""

    tiers: tuple[PriceTier, ...]

    def cost(self, usage: Usage) -> float:
        """The dollars one request's usage costs."""
        tier = next((t for t in self.tiers if usage.input_tokens <= t.max_input_tokens), self.tiers[-1])
        cached = min(usage.cached_tokens, usage.input_tokens)
        cached_rate = tier.input_per_million if tier.cached_input_per_million is None else tier.cached_input_per_million
        dollars = (
            (usage.input_tokens - cached) * tier.input_per_million
            + cached * cached_rate
            + usage.output_tokens * tier.output_per_million
        )
        return dollars / 1_000_000

    def thinking_cost(self, usage: Usage) -> float:
        """The part of ``cost(usage)`` spent on thinking: its tokens at the output rate of the tier."""
        tier = next((t for t in self.tiers if usage.input_tokens <= t.max_input_tokens), self.tiers[-1])
        return usage.thinking_tokens * tier.output_per_million / 1_000_000


# Hosted MiniMax-M1 list prices in USD: up to 200K input tokens, and from 200K to 1M. Prices change;
# pass your own table when your account's page says otherwise.
MINIMAX_M1 = Price((PriceTier(200_000, 0.40, 2.20), PriceTier(1_000_000, 1.30, 2.20)))


class PriceTable:
    """Prices by model name. A model with no entry (a self-hosted server) costs ``None``."""

    def __init__(self, prices: Mapping[str, Price] | None = None, *, default: Price | None = None) -> None:
        self.prices = dict(prices or {})
        self.default = default

    @classmethod
    def hosted_m1(cls, names: Sequence[str] = ("MiniMax-M1", "minimax-m1")) -> PriceTable:
        """The hosted M1 tiers under the names the hosted API uses."""
        return cls({name: MINIMAX_M1 for name in names})

    def price_for(self, model: str) -> Price | None:
        """The price of ``model``: an exact entry, one whose name prefixes it, or the default."""
        if model in self.prices:
            return self.prices[model]
        for name, price in self.prices.items():
            if model.startswith(name):
                return price
        return self.default

    def cost(self, model: str, usage: Usage) -> float | None:
        """Dollars for one request's usage, or ``None`` when the model has no price."""
        price = self.price_for(model)
        return None if price is None else price.cost(usage)

    def thinking_cost(self, model: str, usage: Usage) -> float | None:
        """Dollars of one request's thinking tokens (part of ``cost``), or ``None`` without a price."""
        price = self.price_for(model)
        return None if price is None else price.thinking_cost(usage)


__all__ = ["MINIMAX_M1", "Price", "PriceTable", "PriceTier"]
