"""The ``m1agent`` command line."""

from m1agent.cli.app import app


def main() -> None:
    """Entry point of the ``m1agent`` console script."""
    app()
