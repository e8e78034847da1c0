"""Keys registered as PEM or certificates and signatures given as DER file as raw ones do, and the hub
keeps and passes on the forms it always stored (uncompressed point hex, raw r||s hex)."""

from __future__ import annotations

import base64

import pytest

from services.backbone.errors import ValidationError
from services.backbone.relay import envelopes_after
from services.kernel import signatures
from tests.integration.test_filing import Pipeline, enterprise_with_keys, pipeline  # noqa: F401 - fixture
from tests.vectors import key, vectors

pytestmark = pytest.mark.integration


def test_pem_and_certificate_keys_with_der_signatures_file_and_are_kept_raw(pipeline: Pipeline) -> None:  # noqa: F811
    enterprise, _ = enterprise_with_keys(pipeline, 7)
    eid = str(enterprise.id)
    legal, seal = key("legal_representative"), key("enterprise_seal")
    answer = pipeline.registry.register_public_key(eid, "legal_representative", legal["public_key_pem"])
    assert answer["public_key"] == legal["public_key_hex"]
    answer = pipeline.registry.register_public_key(eid, "enterprise_seal", seal["certificate_pem"])
    assert answer["public_key"] == seal["public_key_hex"]
    pipeline.flow()
    compiled = pipeline.filing.compile(eid)
    data = compiled["canonical"].encode("utf-8")
    raw = {
        "legal_representative": signatures.sign(legal["private_key_hex"], data),
        "enterprise_seal": signatures.sign(seal["private_key_hex"], data),
    }
    given = {
        "legal_representative": signatures.signature_der(raw["legal_representative"]).hex().upper(),
        "enterprise_seal": base64.b64encode(signatures.signature_der(raw["enterprise_seal"])).decode(),
    }
    summary = pipeline.filing.submit(eid, compiled["version"], given)
    assert summary["status"] == "submitted"
    # the relay validates what it publishes against contracts/: the event departments receive
    envelopes, _ = envelopes_after(pipeline.filing, 0, 10_000)
    filed = [
        e.payload for e in envelopes if e.type == "Filing.Submitted" and e.payload["enterprise_id"] == eid
    ]
    assert len(filed) == 1
    assert filed[0]["signatures"] == raw  # raw r||s, lower-case hex, whatever form was given
    assert filed[0]["public_keys"] == {r: key(r)["public_key_hex"] for r in raw}


def test_a_malformed_der_signature_is_refused_by_role_and_nothing_is_filed(pipeline: Pipeline) -> None:  # noqa: F811
    enterprise, keys = enterprise_with_keys(pipeline, 8)
    eid = str(enterprise.id)
    compiled = pipeline.filing.compile(eid)
    data = compiled["canonical"].encode("utf-8")
    good = {r: signatures.sign(k.private_key_hex, data) for r, k in keys.items()}
    der = signatures.signature_der(good["enterprise_seal"]).hex()
    with pytest.raises(ValidationError) as refused:
        pipeline.filing.submit(eid, 1, {**good, "enterprise_seal": der + "00"})
    assert refused.value.violations == [
        ("signatures.enterprise_seal", "signature: bytes after the DER SEQUENCE")
    ]
    with pytest.raises(ValidationError) as empty:
        pipeline.filing.submit(eid, 1, {"enterprise_seal": der})
    assert [f for f, _ in empty.value.violations] == ["signatures.legal_representative"]
    assert pipeline.filing.status(eid)["status"] == "compiled"


def test_a_key_of_another_curve_is_refused_and_the_registered_one_kept(pipeline: Pipeline) -> None:  # noqa: F811
    enterprise, keys = enterprise_with_keys(pipeline, 9)
    eid = str(enterprise.id)
    p256 = next(e for e in vectors()["edge"]["public_keys"] if "P-256" in e["form"])
    with pytest.raises(ValidationError) as refused:
        pipeline.registry.register_public_key(eid, "enterprise_seal", p256["input"])
    assert refused.value.field == "public_key" and "not an SM2 key" in refused.value.rule
    assert (
        pipeline.registry.get(eid)["public_keys"]["enterprise_seal"] == keys["enterprise_seal"].public_key_hex
    )
