"""The τ-bench airline pack: rules in pack.toml, predicates in predicates.py."""
