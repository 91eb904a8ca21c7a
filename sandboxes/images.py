"""Building the sandbox image: from ``python:3.12-slim`` when a registry answers, else offline.

The offline path makes a Debian rootfs with debootstrap from the machine's apt mirror and imports
it (``images/offline/build.sh``); it needs root. Either way the result is tagged ``DEFAULT_IMAGE``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .config import DEFAULT_IMAGE
from .errors import SandboxUnavailable

IMAGES = Path(__file__).parent / "images"
BASE_IMAGE = "python:3.12-slim"

Progress = Callable[[str], None]


def image_exists(client: Any, tag: str = DEFAULT_IMAGE) -> bool:
    """True when the engine has ``tag``."""
    import docker.errors

    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def base_available(client: Any, progress: Progress) -> bool:
    """True when ``python:3.12-slim`` is here or can be pulled (a registry answers)."""
    if image_exists(client, BASE_IMAGE):
        return True
    progress(f"pulling {BASE_IMAGE} ...")
    try:
        client.images.pull(BASE_IMAGE)
    except Exception as exc:  # no registry, no credentials, no network: the offline path follows
        progress(f"cannot pull {BASE_IMAGE} ({str(exc).splitlines()[0][:120]}); building offline")
        return False
    return True


def build_from_dockerfile(client: Any, tag: str, progress: Progress) -> None:
    """``docker build`` of ``images/python/Dockerfile``, streaming its steps to ``progress``."""
    for chunk in client.api.build(path=str(IMAGES / "python"), tag=tag, rm=True, decode=True):
        if "stream" in chunk and chunk["stream"].strip():
            progress(chunk["stream"].rstrip())
        if "error" in chunk:
            raise SandboxUnavailable(f"building {tag} failed: {chunk['error']}")


def build_offline(tag: str, progress: Progress) -> None:
    """Run the debootstrap + import script, passing its lines to ``progress``."""
    script = IMAGES / "offline" / "build.sh"
    process = subprocess.Popen(
        ["bash", str(script), tag], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:
        progress(line.rstrip())
    if process.wait() != 0:
        raise SandboxUnavailable(f"the offline build of {tag} failed (exit {process.returncode})")


def build_image(
    client: Any, *, tag: str = DEFAULT_IMAGE, method: str = "auto", force: bool = False, progress: Progress = print
) -> str:
    """Make sure ``tag`` exists; ``method`` is ``auto``, ``dockerfile`` or ``offline``. Returns the path used."""
    if not force and image_exists(client, tag):
        progress(f"{tag} is already built")
        return "present"
    if force and image_exists(client, tag):
        client.images.remove(tag)
    if method == "dockerfile" or (method == "auto" and base_available(client, progress)):
        build_from_dockerfile(client, tag, progress)
        return "dockerfile"
    build_offline(tag, progress)
    return "offline"
