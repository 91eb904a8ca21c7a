"""Airline predicates: what the policy says the API does not check, decided from the domain state.

Each takes the call and the policy context (read-only view, state, fixed clock) and returns
``None`` when the call complies, or the reason to refuse it, written for the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from m1agent.policies.rules.base import PolicyContext, arg_text

from m1agent.protocol.types import ToolCallPart

FLOWN = frozenset({"flying", "landed"})
FREE_BAGS = {  # membership -> cabin -> free checked bags per passenger
    "regular": {"basic_economy": 0, "economy": 1, "business": 2},
    "silver": {"basic_economy": 1, "economy": 2, "business": 3},
    "gold": {"basic_economy": 2, "economy": 3, "business": 4},
}
PAYMENT_LIMITS = {"certificate": 1, "credit_card": 1, "gift_card": 3}


def _args(call: ToolCallPart) -> Mapping[str, Any]:
    return call.arguments if isinstance(call.arguments, Mapping) else {}


def _reservation(call: ToolCallPart, ctx: PolicyContext) -> Mapping[str, Any] | None:
    reservation_id = arg_text(call.arguments, "reservation_id")
    return ctx.view.get("reservations", reservation_id) if reservation_id else None


def _segments(reservation: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    flights = reservation.get("flights")
    return [f for f in flights if isinstance(f, Mapping)] if isinstance(flights, list | tuple) else []


def _status(ctx: PolicyContext, flight_number: Any, date: Any) -> str | None:
    flight = ctx.view.get("flights", flight_number) if isinstance(flight_number, str) else None
    dates = flight.get("dates") if flight else None
    day = dates.get(date) if isinstance(dates, Mapping) and isinstance(date, str) else None
    status = day.get("status") if isinstance(day, Mapping) else None
    return status if isinstance(status, str) else None


def _flown(ctx: PolicyContext, reservation: Mapping[str, Any]) -> bool:
    return any(_status(ctx, s.get("flight_number"), s.get("date")) in FLOWN for s in _segments(reservation))


def cancel_eligibility(call: ToolCallPart, ctx: PolicyContext) -> str | None:
    """Cancel only if nothing was flown, and: booked in the last 24 h, or a flight was cancelled by
    the airline, or business cabin, or travel insurance (the reason's coverage is the model's call)."""
    reservation = _reservation(call, ctx)
    if reservation is None or reservation.get("status") == "cancelled":
        return None
    rid = reservation.get("reservation_id", arg_text(call.arguments, "reservation_id"))
    if _flown(ctx, reservation):
        return (
            f"Reservation {rid} includes a flight that has already been flown, so it cannot be cancelled "
            "here. Transfer the user to a human agent."
        )
    statuses = [_status(ctx, s.get("flight_number"), s.get("date")) for s in _segments(reservation)]
    if "cancelled" in statuses or reservation.get("cabin") == "business" or reservation.get("insurance") == "yes":
        return None
    created = _parse_time(reservation.get("created_at"))
    if created is not None and ctx.now is not None and timedelta(0) <= ctx.now - created <= timedelta(hours=24):
        return None
    return (
        f"Reservation {rid} cannot be cancelled under the policy: it was booked more than 24 hours ago"
        f" ({reservation.get('created_at')}), none of its flights was cancelled by the airline, the cabin is"
        f" {reservation.get('cabin')}, and it has no travel insurance. Tell the user it cannot be cancelled."
    )


def flight_change_allowed(call: ToolCallPart, ctx: PolicyContext) -> str | None:
    """Basic economy flights cannot change; origin, destination and trip type stay; the cabin cannot
    change once a flight was flown."""
    reservation = _reservation(call, ctx)
    if reservation is None:
        return None
    args = _args(call)
    rid = reservation.get("reservation_id")
    old = sorted((s.get("flight_number"), s.get("date")) for s in _segments(reservation))
    new_segments = [f for f in args.get("flights") or [] if isinstance(f, Mapping)]
    new = sorted((f.get("flight_number"), f.get("date")) for f in new_segments)
    changes_flights = old != new
    if changes_flights and reservation.get("cabin") == "basic_economy":
        return (
            f"Reservation {rid} is basic economy, and basic economy flights cannot be modified (its cabin "
            "can be changed while keeping the same flights). Tell the user."
        )
    cabin = args.get("cabin")
    if cabin is not None and cabin != reservation.get("cabin") and _flown(ctx, reservation):
        return f"Reservation {rid} has a flight that was already flown, so its cabin cannot be changed."
    if changes_flights:
        problem = _itinerary_problem(reservation, new_segments, ctx)
        if problem:
            return f"The new flights for reservation {rid} {problem}; only the flights may change. Tell the user."
    return None


def _itinerary_problem(
    reservation: Mapping[str, Any], segments: list[Mapping[str, Any]], ctx: PolicyContext
) -> str | None:
    origins: list[Any] = []
    destinations: list[Any] = []
    for segment in segments:
        flight = ctx.view.get("flights", segment.get("flight_number")) if isinstance(
            segment.get("flight_number"), str) else None
        if flight is None:
            return None  # an unknown flight: the tool reports it
        origins.append(flight.get("origin"))
        destinations.append(flight.get("destination"))
    # The destination airport is not compared: τ's own gold data moves a trip between airports of
    # one city (LGA to JFK, airline task 29), and which airports serve a city is the model's call.
    origin = reservation.get("origin")
    if origin not in origins:
        return f"do not leave from the reservation's origin {origin}"
    if reservation.get("flight_type") == "round_trip" and origin not in destinations:
        return f"do not return to {origin}, but the reservation is a round trip"
    if reservation.get("flight_type") == "one_way" and origin in destinations:
        return f"return to {origin}, but the reservation is one way"
    return None


def bags_add_only(call: ToolCallPart, ctx: PolicyContext) -> str | None:
    """Checked bags can be added, never removed."""
    reservation = _reservation(call, ctx)
    total = _args(call).get("total_baggages")
    if reservation is None or not isinstance(total, int):
        return None
    current = reservation.get("total_baggages")
    if isinstance(current, int) and total < current:
        return (
            f"Reservation {reservation.get('reservation_id')} has {current} checked bags; bags can be added "
            f"but not removed, so it cannot go down to {total}."
        )
    return None


def passenger_count_unchanged(call: ToolCallPart, ctx: PolicyContext) -> str | None:
    """Passengers may be edited, but their number never changes."""
    reservation = _reservation(call, ctx)
    passengers = _args(call).get("passengers")
    if reservation is None or not isinstance(passengers, list):
        return None
    current = reservation.get("passengers")
    if isinstance(current, list | tuple) and len(current) != len(passengers):
        return (
            f"Reservation {reservation.get('reservation_id')} has {len(current)} passengers; the number of "
            "passengers cannot change (not even a human agent can do that)."
        )
    return None


def booking_allowed(call: ToolCallPart, ctx: PolicyContext) -> str | None:
    """At most five passengers; at most one certificate, one credit card and three gift cards; the
    non-free bag count follows the membership's allowance."""
    args = _args(call)
    passengers = args.get("passengers")
    if isinstance(passengers, list) and len(passengers) > 5:
        return f"A reservation can have at most five passengers, not {len(passengers)}."
    user_id = arg_text(args, "user_id")
    user = ctx.view.get("users", user_id) if user_id else None
    methods = user.get("payment_methods") if user else None
    counts: dict[str, int] = {}
    for payment in args.get("payment_methods") or []:
        pid = payment.get("payment_id") if isinstance(payment, Mapping) else None
        if not isinstance(pid, str):
            continue
        known = methods.get(pid) if isinstance(methods, Mapping) else None
        source = str(known.get("source")) if isinstance(known, Mapping) else pid.rsplit("_", 1)[0]
        counts[source] = counts.get(source, 0) + 1
    for source, limit in PAYMENT_LIMITS.items():
        if counts.get(source, 0) > limit:
            return (
                f"A reservation can use at most one travel certificate, one credit card and three gift cards; "
                f"this one uses {counts[source]} {source.replace('_', ' ')}s."
            )
    return _bag_arithmetic(args, user)


def _bag_arithmetic(args: Mapping[str, Any], user: Mapping[str, Any] | None) -> str | None:
    total, nonfree = args.get("total_baggages"), args.get("nonfree_baggages")
    passengers = args.get("passengers")
    if user is None or not isinstance(total, int) or not isinstance(nonfree, int) or not isinstance(passengers, list):
        return None
    free_each = FREE_BAGS.get(str(user.get("membership")), {}).get(str(args.get("cabin")))
    if free_each is None:
        return None
    expected = max(0, total - free_each * len(passengers))
    if nonfree != expected:
        return (
            f"With {len(passengers)} passenger(s) in {args.get('cabin')} and {user.get('membership')} "
            f"membership, {free_each * len(passengers)} bags are free, so {total} bags means {expected} "
            f"non-free bags, not {nonfree}."
        )
    return None


def compensation_allowed(call: ToolCallPart, ctx: PolicyContext) -> str | None:
    """Only silver/gold members, insured or business travellers; $100 or $50 per passenger of one of
    the user's reservations."""
    args = _args(call)
    user_id = arg_text(args, "user_id")
    user = ctx.view.get("users", user_id) if user_id else None
    amount = args.get("amount")
    if user is None or not isinstance(amount, int | float):
        return None
    reservations = [ctx.view.get("reservations", rid) for rid in user.get("reservations") or [] if isinstance(rid, str)]
    found = [r for r in reservations if r is not None]
    eligible = user.get("membership") in ("silver", "gold") or any(
        r.get("insurance") == "yes" or r.get("cabin") == "business" for r in found
    )
    if not eligible:
        return (
            f"User {user_id} is a regular member with no travel insurance and no business flight, so no "
            "compensation can be given. Tell the user."
        )
    allowed = {per * len(r.get("passengers") or []) for r in found for per in (50, 100)}
    if allowed and amount not in allowed:
        shown = ", ".join(f"${a}" for a in sorted(allowed))
        return (
            f"A certificate of ${amount:g} matches no reservation of {user_id}: compensation is $100 per "
            f"passenger for a cancelled flight or $50 per passenger for a delay ({shown})."
        )
    return None


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
