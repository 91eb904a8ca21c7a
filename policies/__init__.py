"""m1agent.policies: a deterministic policy engine around tool calls, its rule kinds, and packs.

Build an engine from rules, or load a pack (``load_pack("airline")``) and call ``build_engine``.
"""

from m1agent.policies.audit import AuditEntry, JsonlAuditLog
from m1agent.policies.engine import PolicyEngine
from m1agent.policies.rules import (
    ArgConstraint,
    Authentication,
    AuthSource,
    CallLimit,
    ConfirmationGate,
    OneCallPerTurn,
    OwnedBy,
    Ownership,
    PolicyContext,
    PostTransferStop,
    PredicateRule,
    ReadBeforeWrite,
    Rule,
)
from m1agent.policies.state import ConversationState
from m1agent.policies.view import CachedView, DictView, DomainView, EmptyView
from m1agent.policies.yes import CallableYesDetector, ChatYesDetector, KeywordYesDetector, YesDetector

__all__ = [
    "ArgConstraint",
    "AuditEntry",
    "AuthSource",
    "Authentication",
    "CachedView",
    "CallLimit",
    "CallableYesDetector",
    "ChatYesDetector",
    "ConfirmationGate",
    "ConversationState",
    "DictView",
    "DomainView",
    "EmptyView",
    "JsonlAuditLog",
    "KeywordYesDetector",
    "OneCallPerTurn",
    "OwnedBy",
    "Ownership",
    "PolicyContext",
    "PolicyEngine",
    "PostTransferStop",
    "PredicateRule",
    "ReadBeforeWrite",
    "Rule",
    "YesDetector",
]
