"""m1agent.policies."""
