"""Where the hub's secret keys live by default: a folder of the operator's own, not the runtime folder.

The runtime folder holds the stores (SQLite files), logs and tokens; whoever copies it, or reads a
backup of it, has the stores. A key kept there would go with them, and whoever has it could rewrite the
stores and sign (or link) the rewritten history. So the keys default to the secrets folder
(Settings.secrets_dir: HUB_SECRETS_DIR, else `$XDG_CONFIG_HOME/riskhub/`, `~/.config/riskhub/`), each in
a 0600 file made once, or come from the environment (a secret store's job in Compose and Kubernetes).
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path


class KeyLocationError(RuntimeError):
    """A key file that would sit beside the stores, or cannot be made."""


def outside(path: Path, runtime_dir: Path | None) -> Path:
    """`path`, refused when it lies inside the runtime folder (see the module's docstring)."""
    if runtime_dir is not None:
        resolved, runtime = path.resolve(), runtime_dir.resolve()
        if resolved == runtime or runtime in resolved.parents:
            raise KeyLocationError(
                f"{path} is inside the runtime folder {runtime_dir}: a key there goes wherever the "
                "stores go; keep it elsewhere (the default is under ~/.config/riskhub)"
            )
    return path


def made_once(path: Path, make: str) -> str:
    """The file's content, writing `make` first (mode 0600) if nobody has; atomic: another process
    making it at the same moment loses the link and reads the winner's."""
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(make)
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass  # another process made it first: use theirs
            finally:
                temporary.unlink()
        except OSError as error:
            raise KeyLocationError(f"cannot make the key file {path}: {error}") from error
    for _ in range(50):
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
        time.sleep(0.02)
    raise KeyLocationError(f"{path} is empty")
