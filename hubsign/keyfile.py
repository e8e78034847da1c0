"""The enterprise's key files: an SM2 private key as unencrypted PKCS#8 PEM, readable by its owner only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from services.kernel import signatures


class KeyFileError(Exception):
    """A key file that cannot be made or used, with what to do about it."""


def generate(path: Path) -> signatures.KeyPair:
    """Makes a key pair and writes its private key to a new file of mode 0600 (never overwrites)."""
    pair = signatures.generate_keypair()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        # created 0600 at once: the key is never readable by others, not even for an instant
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"{path} exists: a key file is never overwritten (move it away first)") from None
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(signatures.private_key_pem(pair.private_key_hex))
    os.chmod(path, 0o600)  # whatever the umask made of it
    return pair


def load(path: Path) -> signatures.KeyPair:
    """The key pair of a key file; refuses one that others may read, as ssh does."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise KeyFileError(f"{path}: cannot read the key file ({error})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"{path} may be read by others (mode {stat.filemode(mode)}): chmod 600 {path}")
    try:
        private = signatures.private_key_from_pem(text)
    except ValueError as error:
        raise KeyFileError(f"{path}: {error}") from None
    return signatures.KeyPair(private_key_hex=private, public_key_hex=signatures.public_key_of(private))
