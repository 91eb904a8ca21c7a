"""m1agent.sandboxes."""
