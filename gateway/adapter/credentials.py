"""The credential the hub presents to a department's platform, from the registry's reference to it.

The registry keeps only where the secret is (`credentials_ref`), never the secret: `env:NAME` (an
environment variable of the adapter's process) or `file:/path` (a file only the adapter can read). The
secret travels as `authorization: Bearer <secret>` metadata on each push, over the TLS channel the
department's CA certificate sets up. `vault:path` references are accepted by the registry for
deployments that resolve them outside the hub; this adapter has no Vault client and says so.
"""

from __future__ import annotations

import os
from pathlib import Path

Metadata = tuple[tuple[str, str], ...]


class CredentialsUnavailable(Exception):
    """The reference names a secret the adapter cannot read: every push would be refused, so the
    delivery is parked with this reason until the operator fixes the reference or the secret."""


def resolve(reference: str, environ: dict[str, str] | None = None) -> Metadata:
    """The metadata that authenticates the hub to the platform; none for an empty reference."""
    if not reference:
        return ()
    scheme, _, where = reference.partition(":")
    if scheme == "env":
        secret = (os.environ if environ is None else environ).get(where, "")
        if not secret:
            raise CredentialsUnavailable(f"credentials_ref {reference}: the variable {where} is not set")
    elif scheme == "file":
        try:
            secret = Path(where).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise CredentialsUnavailable(f"credentials_ref {reference}: {error.strerror}") from None
        if not secret:
            raise CredentialsUnavailable(f"credentials_ref {reference}: the file is empty")
    else:
        raise CredentialsUnavailable(
            f"credentials_ref {reference}: the adapter reads env: and file: references only"
            f" (it has no {scheme} client)"
        )
    return (("authorization", f"Bearer {secret}"),)
