#!/usr/bin/env bash
# vLLM's released M1 chat template, for the prompt-rendering tests: examples/tool_chat_template_minimax_m1.jinja
# from the vllm 0.23.0 source release on PyPI, cached in .m1agent-test/ (git-ignored; never committed).
# pip finds the sdist through the configured index, as `pip download` would, but only the one file is
# extracted: building vLLM's metadata (what `pip download` of an sdist does) needs CUDA and torch.
# Skipped when the file is already there with the expected digest.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=".venv/bin/python"
[ -x "$PY" ] || PY="python3"
VERSION="0.23.0"
MEMBER="examples/tool_chat_template_minimax_m1.jinja"
SHA256="e1790d8fbe1c587e6fc385e2a712363f86faf52ae1fb1fcbfc5ded3eb1fae70a"
TARGET=".m1agent-test/vllm-$VERSION/tool_chat_template_minimax_m1.jinja"

if [ -f "$TARGET" ] && [ "$(sha256sum "$TARGET" | cut -d' ' -f1)" = "$SHA256" ]; then
    echo "[setup vllm-template] vllm $VERSION template already cached"
    exit 0
fi
echo "[setup vllm-template] fetching $MEMBER from the vllm $VERSION source release"
"$PY" - "$VERSION" "$MEMBER" "$SHA256" "$TARGET" <<'PYTHON'
import hashlib
import io
import sys
import tarfile
from pathlib import Path

from pip._internal.commands.download import DownloadCommand
from pip._vendor.packaging.specifiers import SpecifierSet

version, member, sha256, target = sys.argv[1:]
command = DownloadCommand("download", "")
options, _ = command.parse_args(["--no-deps", "--no-binary", ":all:", f"vllm=={version}"])
with command.main_context():
    session = command.get_default_session(options)
    finder = command._build_package_finder(
        options=options, session=session, target_python=None, ignore_requires_python=True
    )
    best = finder.find_best_candidate("vllm", SpecifierSet(f"=={version}")).best_candidate
    if best is None:
        sys.exit(f"no source release of vllm {version} on the configured index")
    response = session.get(best.link.url)
    response.raise_for_status()
    archive = response.content
if best.link.hash_name and hashlib.new(best.link.hash_name, archive).hexdigest() != best.link.hash:
    sys.exit("the vllm sdist does not match the digest the index gave")
with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
    extracted = tar.extractfile(f"vllm-{version}/{member}")
    if extracted is None:
        sys.exit(f"{member} is not in the vllm {version} sdist")
    data = extracted.read()
if hashlib.sha256(data).hexdigest() != sha256:
    sys.exit(f"{member} in vllm {version} is not the expected file")
path = Path(target)
path.parent.mkdir(parents=True, exist_ok=True)
temporary = path.with_suffix(".partial")
temporary.write_bytes(data)
temporary.replace(path)
print(f"[setup vllm-template] cached {target} ({len(data)} bytes)")
PYTHON
