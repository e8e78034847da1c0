"""Builds dist/hubsign.pyz: the enterprise's signer as one file, without the hub.

    .venv/bin/python scripts/build_signer.py [--out dist/hubsign.pyz]      (or: make signer)

The archive holds hubsign, the kernel modules it signs with (services/kernel: signatures, sm2_der,
canonical) and the generated stubs of enterprise.proto and filing.proto; it runs on any Python 3.11
with gmalglib, grpcio (which brings typing-extensions) and protobuf installed (requirements.lock's):

    pip install gmalglib==0.5.9 grpcio==1.85.3 protobuf==7.36.2
    python hubsign.pyz keygen legal.pem
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import zipapp
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = [
    "hubsign/__init__.py",
    "hubsign/cli.py",
    "hubsign/client.py",
    "hubsign/keyfile.py",
    "hubsign/workflow.py",
    "services/__init__.py",
    "services/backbone/__init__.py",  # services/__init__ silences the libraries' banners first
    "services/backbone/quiet.py",
    "services/kernel/__init__.py",
    "services/kernel/canonical.py",
    "services/kernel/signatures.py",
    "services/kernel/sm2_der.py",
]
STUBS = [
    "hub/__init__.py",
    "hub/v1/__init__.py",
    "hub/v1/enterprise_pb2.py",
    "hub/v1/enterprise_pb2_grpc.py",
    "hub/v1/filing_pb2.py",
    "hub/v1/filing_pb2_grpc.py",
]


def build(out: Path) -> Path:
    """Writes the archive (the stubs must have been generated: make setup)."""
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp)
        for source, name in [(ROOT / m, m) for m in MODULES] + [(ROOT / "gen" / s, s) for s in STUBS]:
            (stage / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, stage / name)
        shutil.copyfile(ROOT / "hubsign" / "__main__.py", stage / "__main__.py")
        out.parent.mkdir(parents=True, exist_ok=True)
        zipapp.create_archive(stage, out, interpreter="/usr/bin/env python3", compressed=True)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "hubsign.pyz")
    print(build(parser.parse_args().out))
