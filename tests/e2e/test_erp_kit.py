"""The ERP integrator's kit against a live hub: the Node.js client (sm-crypto, grpc-js), the Java signer
(BouncyCastle) and the standalone hubsign file registers that the reference departments acknowledge.
One hub for the module; each test is its own enterprise."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from hub.v1 import enterprise_pb2 as epb
from hub.v1 import enterprise_pb2_grpc, riskpoint_pb2_grpc
from hub.v1 import riskpoint_pb2 as rpb

from departments.reference.store import read_inbox
from hubctl import demo_town
from hubsign import workflow
from hubsign.client import Hub as Signer
from scripts.build_signer import build
from services.kernel import signatures
from tests.conftest import ROOT, Hub
from tests.e2e.filing_flow import setup_departments
from tests.factories import enterprise_fields, make_uscc
from tests.vectors import PATH as VECTORS
from tests.vectors import vectors

pytestmark = pytest.mark.e2e
BCPROV = Path(os.environ.get("BCPROV_JAR", "/usr/share/java/bcprov.jar"))
NUMBERS = itertools.count(27_000 + os.getpid() % 1000 * 10)
ACKNOWLEDGED = {"AJJ-TEZ": "acknowledged", "TOWN-ZSZ": "acknowledged"}


@pytest.fixture(scope="module")
def departments(hub: Hub) -> Hub:
    setup_departments(hub)  # 化工 → 安监 (AJJ-TEZ); every enterprise → its town office (TOWN-ZSZ)
    return hub


@pytest.fixture(scope="module")
def java(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The Java signer compiled by javac against Debian's BouncyCastle alone (it needs nothing else):
    the command that runs it."""
    classes = tmp_path_factory.mktemp("java")
    sources = [str(ROOT / "examples" / "java" / name) for name in ("FilingSigner.java", "Json.java")]
    subprocess.run(["javac", "-cp", str(BCPROV), "-d", str(classes), *sources], check=True, timeout=120)
    return ["java", "-cp", f"{classes}{os.pathsep}{BCPROV}", "FilingSigner"]


@pytest.fixture(scope="module")
def java_erp(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The Java ERP client built as README says (examples/java/build.sh: protoc with grpc-java's plugin,
    javac against Debian's jars): the command that runs it."""
    out = tmp_path_factory.mktemp("java-erp")
    run([str(ROOT / "examples" / "java" / "build.sh"), str(out)])
    return ["java", "-cp", (out / "classpath").read_text(encoding="utf-8").strip(), "ErpClient"]


def run(args: list[str], **kwargs: object) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=180, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{args[:3]} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return str(done.stdout)


def register(hub: Hub) -> tuple[str, Signer]:
    """A chemical enterprise of the town, registered as an ERP does: its credit code and a client."""
    fields = enterprise_fields(next(NUMBERS))
    contacts = [epb.Contact(**c) for c in fields.pop("contacts")]
    with grpc.insecure_channel(hub.gateway_address) as channel:
        answer = enterprise_pb2_grpc.EnterpriseServiceStub(channel).RegisterEnterprise(
            epb.RegisterEnterpriseRequest(profile=epb.EnterpriseProfile(**fields, contacts=contacts)),
            metadata=(("x-hub-registration-token", hub.registration_token),),
        )
    return fields["unified_social_credit_code"], Signer(hub.gateway_address, answer.key_id, answer.secret)


def import_points(signer: Signer, n: int) -> list[str]:
    """Imports the demo town's risk points of a chemical works; answers their external ids."""
    items = demo_town.risk_points(n)
    stub = riskpoint_pb2_grpc.RiskPointServiceStub(signer.channel)
    request = iter([rpb.ImportRiskPointsRequest(items=items)])
    results = [r for page in stub.ImportRiskPoints(request, metadata=signer.metadata) for r in page.results]
    assert all(r.status != rpb.IMPORT_ITEM_STATUS_REJECTED for r in results), results
    return [item.external_id for item in items]


def acknowledged_by_both_platforms(hub: Hub, uscc: str, document_hash: str) -> None:
    for code in ("AJJ-TEZ", "TOWN-ZSZ"):
        rows = read_inbox(hub.settings.runtime_dir / "platforms" / code / "inbox.sqlite")
        mine = [r for r in rows if r["uscc"] == uscc]
        assert [(r["outcome"], r["document_hash"]) for r in mine] == [("OUTCOME_ACCEPTED", document_hash)]


def test_the_three_libraries_agree_with_the_vectors(java: list[str]) -> None:
    """BouncyCastle and sm-crypto give every vector the verdict it states (the hub and OpenSSL:
    tests/unit/test_filing_vectors.py)."""
    checks = len(vectors()["keys"]) + len(vectors()["signatures"]) + 1
    out = run([*java, "vectors", str(VECTORS)])
    assert f"java vectors: {checks} agree, 0 disagree" in out
    out = run(["node", str(ROOT / "examples" / "node" / "vectors.mjs"), str(VECTORS)])
    assert f"node vectors: {checks + len(vectors()['messages'])} agree, 0 disagree" in out


def test_the_node_erp_client_files_a_register_the_departments_acknowledge(departments: Hub) -> None:
    hub, uscc = departments, make_uscc(next(NUMBERS))
    env = {
        **os.environ,
        "HUB_GATEWAY_ADDRESS": hub.gateway_address,
        "HUB_REGISTRATION_TOKEN": hub.registration_token,
    }
    out = run(["node", str(ROOT / "examples" / "node" / "erp.mjs"), uscc], env=env)
    answer = json.loads(out.strip().splitlines()[-1])
    # compiling while the import is still on its way may make a version holding part of it first
    assert answer["version"] >= 1
    assert {code: d["state"] for code, d in answer["ledger"].items()} == {
        "AJJ-TEZ": "DELIVERY_STATE_ACKNOWLEDGED",
        "TOWN-ZSZ": "DELIVERY_STATE_ACKNOWLEDGED",
    }
    acknowledged_by_both_platforms(hub, uscc, answer["document_hash"])


def test_the_java_erp_client_files_a_register_the_departments_acknowledge(
    departments: Hub, java_erp: list[str], tmp_path: Path
) -> None:
    """grpc-java end to end: register, both keys as PEM, the import's client stream, compile right after
    it, DER signatures, filing; run again with the same credit code and keys, the same answer (the
    registration is idempotent, the version already filed is answered again, nothing is filed twice)."""
    hub, uscc = departments, make_uscc(next(NUMBERS))
    env = {
        **os.environ,
        "HUB_GATEWAY_ADDRESS": hub.gateway_address,
        "HUB_REGISTRATION_TOKEN": hub.registration_token,
    }
    keys = tmp_path / "keys"
    answers = [json.loads(run([*java_erp, uscc, "--keys", str(keys)], env=env).strip()) for _ in range(2)]
    assert answers[0] == answers[1]
    answer = answers[0]
    assert answer["version"] == 1  # compiled right after the import, it already held both points
    assert {code: d["state"] for code, d in answer["ledger"].items()} == {
        "AJJ-TEZ": "DELIVERY_STATE_ACKNOWLEDGED",
        "TOWN-ZSZ": "DELIVERY_STATE_ACKNOWLEDGED",
    }
    acknowledged_by_both_platforms(hub, uscc, answer["document_hash"])
    assert sorted(p.name for p in keys.iterdir()) == [
        f"{uscc}-enterprise_seal.pem",
        f"{uscc}-legal_representative.pem",
    ]
    assert all((p.stat().st_mode & 0o777) == 0o600 for p in keys.iterdir())
    assert (keys.stat().st_mode & 0o777) == 0o700


def test_the_java_erp_client_names_the_field_the_hub_refused(departments: Hub, java_erp: list[str]) -> None:
    hub, valid = departments, make_uscc(next(NUMBERS))
    bad = valid[:-1] + ("1" if valid[-1] != "1" else "2")  # the check digit wrong
    env = {
        **os.environ,
        "HUB_GATEWAY_ADDRESS": hub.gateway_address,
        "HUB_REGISTRATION_TOKEN": hub.registration_token,
    }
    args = [*java_erp, bad, "--keys", "/nonexistent"]  # refused before any key is made
    done = subprocess.run(args, capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.startswith("refused: INVALID_ARGUMENT")
    assert "field profile.unified_social_credit_code: check digit" in done.stderr
    assert "Exception" not in done.stderr  # one readable answer, no Java stack trace


def test_java_der_signatures_and_pem_keys_file_and_bad_input_is_refused(
    departments: Hub, java: list[str], tmp_path: Path
) -> None:
    hub = departments
    uscc, signer = register(hub)
    keys = {}
    for role in ("legal_representative", "enterprise_seal"):
        public_pem = run([*java, "keygen", str(tmp_path / f"{role}.pem")])  # the ERP's own key file
        keys[role] = tmp_path / f"{role}.pem"
        assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")
        stored = signer.register_key(role, public_pem)
        assert stored == signatures.public_key_from(run([*java, "pubkey", str(keys[role])]))
    with pytest.raises(grpc.RpcError) as p256:
        signer.register_key("enterprise_seal", _edge_key("P-256"))
    assert _bad_fields(p256.value) == ["public_key"]
    expected = import_points(signer, 1)
    compiled = workflow.compile_when_ready(signer, expected, wait=60)
    document = tmp_path / "register.json"
    document.write_bytes(compiled.canonical)
    signed = {role: run([*java, "sign", str(path), str(document)]).strip() for role, path in keys.items()}
    assert all(s.startswith("30") and len(s) in (140, 142, 144) for s in signed.values())  # DER
    with pytest.raises(grpc.RpcError) as trailing:
        workflow.submit(
            signer, compiled.version, {**signed, "enterprise_seal": signed["enterprise_seal"] + "00"}
        )
    assert trailing.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _bad_fields(trailing.value) == ["enterprise_seal_signature"]
    assert signer.status(compiled.version)["status"] == "compiled"  # nothing was filed
    workflow.submit(signer, compiled.version, signed)
    ledger = workflow.wait_answered(signer, compiled.version, 120)
    assert {c: d["state"] for c, d in ledger["departments"].items()} == ACKNOWLEDGED
    acknowledged_by_both_platforms(hub, uscc, compiled.document_hash)
    signer.close()


def test_the_standalone_signer_files_with_a_certificate_key(
    departments: Hub, tmp_path: Path, isolated_python: list[str]
) -> None:
    """dist/hubsign.pyz, run where only gmalglib, grpcio and protobuf can be imported: key files,
    a seal key registered as an X.509 certificate made by OpenSSL from hubsign's own key file, filing."""
    hub = departments
    _, signer = register(hub)
    pyz = [*isolated_python, str(build(tmp_path / "hubsign.pyz"))]
    legal, seal = tmp_path / "legal.pem", tmp_path / "seal.pem"
    run([*pyz, "keygen", str(legal)])
    run([*pyz, "keygen", str(seal)])
    assert (legal.stat().st_mode & 0o777) == 0o600
    certificate = run(
        ["openssl", "req", "-new", "-x509", "-key", str(seal), "-sm3", "-sigopt", "distid:1234567812345678",
         "-subj", "/CN=seal", "-days", "30"]
    )  # fmt: skip
    env = {**os.environ, "HUB_GATEWAY_ADDRESS": hub.gateway_address, "HUB_KEY_ID": signer.metadata[0][1]}
    env["HUB_SECRET"] = signer.metadata[1][1]
    run([*pyz, "register-key", "legal_representative", str(legal)], env=env)
    assert signer.register_key("enterprise_seal", certificate) == run([*pyz, "pubkey", str(seal)]).strip()
    expected = import_points(signer, 2)
    flags = [f"--expect={e}" for e in expected]
    answer = json.loads(
        run(
            [*pyz, "file", "--legal-representative", str(legal), "--enterprise-seal", str(seal), *flags],
            env=env,
        )
    )
    assert {c: d["state"] for c, d in answer["departments"].items()} == ACKNOWLEDGED
    register_file = tmp_path / "register.json"
    run([*pyz, "fetch", "--version", str(answer["version"]), "-o", str(register_file)], env=env)
    signature = run([*pyz, "sign", str(seal), str(register_file), "--der"]).strip()
    certificate_file = tmp_path / "seal.crt"
    certificate_file.write_text(certificate)
    verified = run(
        [*pyz, "verify", str(register_file), "--public-key", f"@{certificate_file}", "--signature", signature,
         "--hash", answer["document_hash"]]
    )  # fmt: skip
    assert json.loads(verified)["verified"] is True
    signer.close()


@pytest.fixture(scope="module")
def isolated_python(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """A Python that can import gmalglib, grpcio and protobuf and nothing of the hub: no site
    packages, no PYTHONPATH, only links to those (and grpcio's typing_extensions) in a folder."""
    import gmalglib
    import google.protobuf
    import typing_extensions  # grpcio's one dependency

    folder = tmp_path_factory.mktemp("signer-deps")
    (folder / "google").mkdir()
    for module in (gmalglib, grpc, google.protobuf):
        (folder / module.__name__.replace(".", "/")).symlink_to(Path(module.__file__).parent)
    (folder / "typing_extensions.py").symlink_to(typing_extensions.__file__)
    # runs the archive as `python hubsign.pyz …` would, with that folder first on the path
    runner = f"import runpy, sys; sys.path.insert(0, {str(folder)!r}); sys.argv = sys.argv[1:]; "
    yield [sys.executable, "-I", "-S", "-c", runner + "runpy.run_path(sys.argv[0], run_name='__main__')"]


def _edge_key(form: str) -> str:
    return next(e["input"] for e in vectors()["edge"]["public_keys"] if form in e["form"])


def _bad_fields(error: grpc.RpcError) -> list[str]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, error
    fields = []
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            fields += [v.field for v in bad.field_violations]
    return fields
