"""Logs are structured, carry the correlation id, and never show names or mobiles."""

from __future__ import annotations

import json

import pytest
import structlog

from services.backbone import correlation
from services.backbone import logging as hub_logging
from services.backbone.masking import mask_mobile, mask_name, mask_value


def test_mobiles_are_masked_wherever_they_appear() -> None:
    assert mask_mobile("call 13812345678 now") == "call 138****5678 now"
    assert mask_mobile("order 2023138123456789") == "order 2023138123456789"  # not a mobile
    assert mask_value("note", {"contact": "王五", "mobile": "13912345678"}) == {
        "contact": "王*",
        "mobile": "139****5678",
    }


def test_person_names_keep_only_the_family_name() -> None:
    assert mask_name("张三丰") == "张**"
    assert mask_value("legal_representative", "李四") == "李*"
    assert mask_value("responsible_person", "欧阳修") == "欧**"
    assert mask_value("name", "枣庄某化工有限公司") == "枣庄某化工有限公司"  # enterprises are not people


def test_json_log_lines_carry_correlation_id_and_masked_fields(capsys: pytest.CaptureFixture[str]) -> None:
    hub_logging.configure("test", "json")
    log = structlog.get_logger("t")
    with correlation.bound("cid-42"):
        log.info("enterprise_registered", legal_representative="张三", mobile="13812345678")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["correlation_id"] == "cid-42"
    assert line["legal_representative"] == "张*"
    assert line["mobile"] == "138****5678"
    assert line["event"] == "enterprise_registered" and line["process"] == "test"
    structlog.reset_defaults()
