"""Logs are structured, carry the correlation id, and never show names or mobiles."""

from __future__ import annotations

import json
import logging
import random
import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import pytest
import structlog

from services.backbone import correlation
from services.backbone import logging as hub_logging
from services.backbone.masking import PERSON_KEYS, mask_mobile, mask_name, mask_value


def test_mobiles_are_masked_wherever_they_appear() -> None:
    assert mask_mobile("call 13812345678 now") == "call 138****5678 now"
    assert mask_mobile("order 2023138123456789") == "order 2023138123456789"  # not a mobile
    assert mask_value("note", {"contact": "王五", "mobile": "13912345678"}) == {
        "contact": "王*",
        "mobile": "139****5678",
    }


def test_ids_are_never_taken_for_mobile_numbers() -> None:
    # eleven digits inside a hex id looked like a mobile: the correlation id was masked in the logs
    cid = "14b77a13699996338af86c7b7efc8f32"
    assert mask_mobile(f"error in {cid}") == f"error in {cid}"
    assert mask_value("correlation_id", "13812345678") == "13812345678"
    assert mask_value("delivery_id", "e7bb6be2/13812345678/AJJ") == "e7bb6be2/13812345678/AJJ"
    assert mask_mobile("电话13812345678。") == "电话138****5678。"
    assert mask_mobile("mobile=13812345678, ") == "mobile=138****5678, "


def test_log_levels_by_name_and_debug_lines_only_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    assert hub_logging.level_number("debug") == logging.DEBUG
    assert hub_logging.level_number(" INFO ") == logging.INFO
    with pytest.raises(ValueError, match="HUB_LOG_LEVEL"):
        hub_logging.level_number("loud")
    hub_logging.configure("test", "json")  # info: the default
    log = structlog.get_logger("t")
    log.debug("relay_page", published=3)
    log.info("stream_started")
    hub_logging.configure("test", "json", "debug")
    structlog.get_logger("t").debug("relay_page", published=4)  # loggers keep their first set-up
    events = [json.loads(line)["event"] for line in capsys.readouterr().err.strip().splitlines()]
    assert events == ["stream_started", "relay_page"]
    structlog.reset_defaults()


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


def test_amqps_closing_channel_warning_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    hub_logging.configure("test", "json")
    amqp_log = logging.getLogger("amqp")
    with caplog.at_level(logging.WARNING, logger="amqp"):
        amqp_log.warning(
            "Received method %s during closing channel %s. This method will be ignored", (60, 80), 1
        )
        amqp_log.warning("Socket closed unexpectedly")
    assert [r.getMessage() for r in caplog.records] == ["Socket closed unexpectedly"]
    structlog.reset_defaults()


def _reference_mask(key: str, value: Any) -> Any:
    """What mask_value did before its fast path for plain values (the oracle)."""
    if isinstance(value, Mapping):
        return {k: _reference_mask(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_reference_mask(key, v) for v in value]
    if isinstance(value, str):
        if key in PERSON_KEYS or key.endswith("_person"):
            return mask_name(value)
        if key.endswith("_id"):
            return value
        return mask_mobile(value)
    return value


class _Kind(StrEnum):
    MOBILE = "13912345678"
    SHORT = "ok"


@pytest.mark.parametrize("seed", range(8))
def test_the_fast_path_masks_every_kind_of_value_as_before(seed: int) -> None:
    rng = random.Random(seed)
    keys = ["note", "mobile", "contact", "inspector", "duty_person", "delivery_id", "event", "timestamp", "x"]

    def text() -> str:
        parts = ["", "电话", "a", "1", "13812345678", "1381234567", "138123456789", "x13812345678", " ", "。"]
        return "".join(rng.choice(parts) for _ in range(rng.randint(0, 4)))

    def value(depth: int = 0) -> Any:
        roll = rng.randint(0, 9 if depth < 3 else 5)
        if roll <= 2:
            return text()
        if roll == 3:
            return rng.choice([0, 13812345678, 1.5, True, None, _Kind.MOBILE, _Kind.SHORT])
        if roll == 4:
            return rng.choice([b"13812345678", uuid.UUID(int=rng.getrandbits(128)), text().encode()])
        if roll == 5:
            return type("Text", (str,), {})(text())  # a str subclass
        if roll in (6, 7):
            return {rng.choice(keys): value(depth + 1) for _ in range(rng.randint(0, 3))}
        items = [value(depth + 1) for _ in range(rng.randint(0, 3))]
        return items if roll == 8 else tuple(items)

    for _ in range(400):
        key, item = rng.choice(keys), value()
        assert mask_value(key, item) == _reference_mask(key, item), (key, item)
