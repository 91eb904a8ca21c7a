"""τ-bench integration (extra ``m1agent[tau]``): tau2's environments as m1agent tools, a read-only view
of their databases, the gold-replay harness, and the ``m1agent tau`` commands."""
