"""Reusable rule kinds: protocol, authentication, ownership, reads, confirmation, limits, transfer."""

from m1agent.policies.rules.auth import Authentication, AuthSource
from m1agent.policies.rules.base import PolicyContext, Predicate, Rule
from m1agent.policies.rules.confirm import ConfirmationGate
from m1agent.policies.rules.constraints import ArgConstraint
from m1agent.policies.rules.limits import CallLimit
from m1agent.policies.rules.ownership import OwnedBy, Ownership
from m1agent.policies.rules.predicate import PredicateRule
from m1agent.policies.rules.protocol import OneCallPerTurn
from m1agent.policies.rules.reads import ReadBeforeWrite
from m1agent.policies.rules.transfer import PostTransferStop

__all__ = [
    "ArgConstraint",
    "AuthSource",
    "Authentication",
    "CallLimit",
    "ConfirmationGate",
    "OneCallPerTurn",
    "OwnedBy",
    "Ownership",
    "PolicyContext",
    "PostTransferStop",
    "Predicate",
    "PredicateRule",
    "ReadBeforeWrite",
    "Rule",
]
