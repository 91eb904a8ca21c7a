"""Secrets never reach a pack: redacted in place, reported, and .env files excluded by default."""

from __future__ import annotations

from m1agent.context.pack import PackOptions, pack_repository
from m1agent.context.secrets import redact, scan

AWS_ID = "AKIA" + "QWERTYUIOPASDFGH"
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx1y\nabcdefg\n-----END RSA PRIVATE KEY-----"
OPENAI = "sk-proj-" + "Zx9" * 15


def test_scan_finds_the_usual_shapes_and_redacts_them():
    text = f"id = '{AWS_ID}'\ntoken = \"{GITHUB}\"\n{PEM}\nkey={OPENAI}\nplain = 'hello world'\n"
    findings = scan(text)
    kinds = {f.kind for f in findings}
    assert {"aws_access_key_id", "github_token", "private_key", "openai_key"} <= kinds
    clean = redact(text, findings)
    for secret in (AWS_ID, GITHUB, "MIIEowIBAAKCAQEAx1y", OPENAI):
        assert secret not in clean
    assert "plain = 'hello world'" in clean


def test_pack_redacts_secrets_and_reports_the_file(make_repo, counter, cache_dir, monkeypatch):
    env_secret = "mm-" + "Q7v" * 10
    monkeypatch.setenv("MINIMAX_API_KEY", env_secret)
    root = make_repo({
        "config/settings.py": f"AWS_KEY = '{AWS_ID}'\nGITHUB = '{GITHUB}'\nDEBUG = True\n",
        "deploy/key.txt": f"{PEM}\n",
        "notes.md": f"the key we use is {env_secret} do not share\n",
        ".env": f"MINIMAX_API_KEY={env_secret}\n",
        "app.py": "def main():\n    return 1\n",
    })  # fmt: skip
    result = pack_repository(root, PackOptions(budget=3000, cache_dir=cache_dir), counter=counter)
    text = result.text
    for secret in (AWS_ID, GITHUB, "MIIEowIBAAKCAQEAx1y", env_secret):
        assert secret not in text
    assert "DEBUG = True" in text  # the file is kept, only the secret goes
    redacted = {e.path: e.redacted for e in result.ledger.redacted}
    assert set(redacted["config/settings.py"]) == {"aws_access_key_id", "github_token"}
    assert redacted["deploy/key.txt"] == ("private_key",)
    assert redacted["notes.md"] == ("environment_secret",)
    assert dict(result.ledger.skipped)[".env"] == "default ignore"
    assert "secrets redacted in config/settings.py" in result.ledger.render_tree()
    # the ledger JSON carries no secret either
    assert AWS_ID not in str(result.ledger.to_json())
    # a warm repack (rendered text from the cache) reports the same redactions
    warm = pack_repository(root, PackOptions(budget=3000, cache_dir=cache_dir), counter=counter)
    assert warm.text == text and {e.path: e.redacted for e in warm.ledger.redacted} == redacted
    # a secret added to the environment later is redacted even though the file did not change
    monkeypatch.setenv("OTHER_SERVICE_TOKEN", "zz-not-in-any-pattern-123")
    (root / "app.py").write_text("def main():\n    return 'zz-not-in-any-pattern-123'\n")
    later = pack_repository(root, PackOptions(budget=3000, cache_dir=cache_dir), counter=counter)
    assert "zz-not-in-any-pattern-123" not in later.text
