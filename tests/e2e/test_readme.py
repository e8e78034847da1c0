"""README is executable: every ```bash block runs, in order, in one shell, against a hub started as
`make run` starts it, as a newcomer pasting them into a second terminal would run them.

A block that fails names itself (its first line in README) and the command. ```sh blocks are the ones
README says are for other machines or shapes to fill in; they are not run. What the blocks print is
checked for the outcome README promises (registers acknowledged, signatures verified, the audit clean),
not only for a zero exit.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, Hub

pytestmark = pytest.mark.e2e

FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", flags=re.DOTALL | re.MULTILINE)


def bash_blocks(readme: str) -> list[tuple[int, str]]:
    """(README line of the block's first command, its text) of every ```bash block, in order."""
    return [
        (readme.count("\n", 0, m.start()) + 2, m.group(2))
        for m in FENCE.finditer(readme)
        if m.group(1) == "bash"
    ]


def script(blocks: list[tuple[int, str]]) -> str:
    """One bash script: each block announced, any failing command named with its block's line."""
    parts = [
        "set -eo pipefail",
        "trap 'echo \"README block at line $README_LINE failed: $BASH_COMMAND\" >&2' ERR",
    ]
    for line, text in blocks:
        parts.append(f"README_LINE={line}; echo {shlex.quote(f'### README line {line}')}")
        parts.append(text)
    parts.append("echo '### README done'")
    return "\n".join(parts) + "\n"


def test_readme_blocks_are_found_and_none_is_a_shape_to_fill_in() -> None:
    blocks = bash_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 10
    # placeholders belong in ```sh blocks: a runnable block names real codes and shell variables
    commands = "\n".join(line.split("  #")[0] for _, t in blocks for line in t.splitlines())
    bare = re.findall(r"(?<![$\w{])(?:ENTERPRISE_ID|RISK_POINT_ID|CODE|KEY|ID)\b(?!=)", commands)
    assert not bare
    for placeholder in ("…", "HOST:PORT", "TEZ-AJ", "ZSZ-AWB"):
        assert placeholder not in commands, placeholder


def test_every_bash_block_of_readme_runs_against_a_hub(hub: Hub, tmp_path: Path) -> None:
    blocks = bash_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    hub.registration_token  # noqa: B018 - made on first use, as `make run`'s gateway does
    env = {
        **hub.env,
        "COLUMNS": "100",
        "XDG_DATA_HOME": str(tmp_path / "data"),  # the demo's enterprises keep their keys here
        "TMPDIR": str(tmp_path),
    }
    env.pop("HUB_KEY_ID", None)
    env.pop("HUB_SECRET", None)
    done = subprocess.run(
        ["bash", "-c", script(blocks)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    out = done.stdout
    (tmp_path / "readme.out").write_text(out + "\n--- stderr\n" + done.stderr)  # to read after a failure
    assert done.returncode == 0, f"{done.stderr[-4000:]}\n--- stdout\n{out[-4000:]}\n{hub.logs()[-3000:]}"
    assert out.count("### README line") == len(blocks) and "### README done" in out

    said = printed_by_block(out, blocks)

    def of(command: str) -> str:
        """What the block holding this command printed."""
        return next(said[line] for line, text in blocks if command in text)

    demo = of("hubctl demo")
    assert demo.count("AJJ-TEZ acknowledged") == 12 and "received 12 filings, acknowledged 12" in demo
    client = of("examples/erp_client.py")
    assert "(new: True)" in client and "(new: False)" in client  # the ERP client, then its retry
    assert "risk point RP-002: IMPORT_ITEM_STATUS_CREATED" in client and "REJECTED" not in client
    filed = of("hubsign file")
    assert "ACKNOWLEDGED" in filed.upper() and "AJJ-TEZ" in filed
    assert "verifies" in of("FilingSigner vectors").lower() or "ok" in of("FilingSigner vectors").lower()
    assert "acknowledged" in of("erp.mjs").lower()
    audit = of("hubctl audit verify")
    assert "FAIL" not in audit and "unlinked" not in audit
    cards = list(tmp_path.glob("tmp.*/card.pdf"))
    assert len(cards) == 1 and cards[0].read_bytes().startswith(b"%PDF")
    assert list(tmp_path.glob("tmp.*/anchors/*.json"))
    # the enterprise's keys stayed in its folder: none in the hub's runtime folder
    keys = [p.read_text() for p in tmp_path.glob("tmp.*/*.pem")]
    assert len(keys) == 3  # the legal representative's, the seal's, the Java example's
    hub_files = [f.read_bytes() for f in hub.settings.runtime_dir.rglob("*") if f.is_file()]
    assert not [k for k in keys if any(k.encode() in content for content in hub_files)]


def printed_by_block(out: str, blocks: list[tuple[int, str]]) -> dict[int, str]:
    parts = re.split(r"^### README (?:line (\d+)|done)$", out, flags=re.MULTILINE)
    return {int(line): text for line, text in zip(parts[1::2], parts[2::2], strict=True) if line}
