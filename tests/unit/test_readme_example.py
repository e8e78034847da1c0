"""The ERP client shown in the README is the one that runs (tests/e2e/test_registry.py runs it)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_shows_the_runnable_erp_client_verbatim() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Integrating an ERP", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert blocks == [(ROOT / "examples" / "erp_client.py").read_text(encoding="utf-8")]
