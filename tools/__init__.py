"""m1agent.tools."""
