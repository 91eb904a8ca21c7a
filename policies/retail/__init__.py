"""The τ-bench retail pack: rules in pack.toml, predicates in predicates.py."""
