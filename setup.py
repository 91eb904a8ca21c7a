"""Package discovery for the four source roots mapped into the ``m1agent`` namespace."""

from setuptools import find_packages, setup

ROOTS = {"m1agent": "m1agent", "tools": "m1agent.tools", "policies": "m1agent.policies",
         "sandboxes": "m1agent.sandboxes"}


def _packages() -> list[str]:
    found = []
    for folder, dotted in ROOTS.items():
        found.append(dotted)
        found += [f"{dotted}.{sub}" for sub in find_packages(folder)]
    return found


setup(packages=_packages())
