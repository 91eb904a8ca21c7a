"""The ``m1agent`` command line."""


def main() -> None:
    """Entry point of the ``m1agent`` console script."""
    # Imported here, not above: importing any module of this package (a command, the config) must not
    # load every command with it.
    from m1agent.cli.app import app

    app()
