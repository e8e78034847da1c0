"""Anchors: signed tree heads kept outside the hub, read from a folder or fetched from a platform.

A folder holds JSON files, each a head (as `hubctl audit heads` or a platform prints it), a list of
heads, or {"holder": …, "heads": […]}; the holder is that name or the file's. A platform is asked
with DepartmentPlatformService.ListTreeHeads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import grpc

from services.kernel.tree_heads import Anchor, TreeHead, head_from_message


class AnchorError(ValueError):
    """Anchors that cannot be read: a missing folder, a file that is not heads, a platform that does
    not answer."""


def from_folder(path: Path) -> list[Anchor]:
    if not path.exists():
        raise AnchorError(f"{path}: no such folder or file")
    files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
    found = []
    for file in files:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise AnchorError(f"{file}: not JSON ({error})") from None
        holder = file.stem
        if isinstance(data, dict) and "heads" in data:
            holder, data = str(data.get("holder") or holder), data["heads"]
        for item in data if isinstance(data, list) else [data]:
            found.append(Anchor(_head(item, file), holder))
    return found


def _head(item: Any, where: Path) -> TreeHead:
    try:
        return TreeHead.from_dict(dict(item))
    except (TypeError, ValueError, KeyError) as error:
        raise AnchorError(f"{where}: not a tree head ({error})") from None


def from_platform(
    address: str, holder: str, tls_ca: str = "", metadata: tuple[tuple[str, str], ...] = ()
) -> list[Anchor]:
    """The heads a platform holds (DepartmentPlatformService.ListTreeHeads)."""
    from hub.v1 import department_pb2 as pb
    from hub.v1 import department_pb2_grpc

    channel = (
        grpc.secure_channel(address, grpc.ssl_channel_credentials(tls_ca.encode("utf-8")))
        if tls_ca
        else grpc.insecure_channel(address)
    )
    try:
        stub = department_pb2_grpc.DepartmentPlatformServiceStub(channel)
        answer = stub.ListTreeHeads(pb.ListTreeHeadsRequest(), timeout=30, metadata=metadata)
    except grpc.RpcError as error:
        raise AnchorError(f"{holder} ({address}): {error.code().name}: {error.details()}") from None  # type: ignore[attr-defined]
    finally:
        channel.close()
    return [Anchor(head_from_message(h), holder) for h in answer.heads]
