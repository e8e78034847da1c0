"""Filing's view of risk points (from riskpoints envelopes) and the warning card renderings."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import Tracking

from services.backbone.handlers import UnitOfWork
from services.backbone.relay import envelopes_after
from services.filing.application import FilingApplication
from services.filing.handlers import handlers
from services.filing.riskpoint_views import RiskPointRegister, riskpoint_register
from services.riskpoints import card
from services.riskpoints.application import RiskPointsApplication
from tests.riskpoint_factories import item

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


@pytest.fixture
def apps() -> Iterator[tuple[RiskPointsApplication, FilingApplication]]:
    riskpoints, filing = RiskPointsApplication(env=POPO), FilingApplication(env=POPO)
    yield riskpoints, filing
    riskpoints.close()
    filing.close()


def deliver(riskpoints: RiskPointsApplication, filing: FilingApplication, after: int = 0) -> int:
    """Applies every new riskpoints event to filing as one consumer page; returns the position."""
    envelopes, last = envelopes_after(riskpoints, after, 100_000)
    uow = UnitOfWork(filing)
    for envelope in envelopes:
        handlers.apply(uow, envelope)
    processing = ProcessingEvent(Tracking("riskpoints", last))
    uow.collect(processing)
    filing.record(processing)
    return last


def test_the_register_follows_risk_points_with_one_event_per_page(
    apps: tuple[RiskPointsApplication, FilingApplication],
) -> None:
    riskpoints, filing = apps
    enterprise = str(uuid.uuid4())
    answer = riskpoints.upsert_batch(enterprise, [item(i, level=(1, 2, 3, 4)[i % 4]) for i in range(40)])
    position = deliver(riskpoints, filing)
    rows = riskpoint_register(filing, enterprise)
    assert len(rows) == 40 and [r["level"] for r in rows] == sorted(r["level"] for r in rows)
    first = next(r for r in rows if r["risk_point_id"] == answer["results"][0]["risk_point_id"])
    assert (first["level"], first["colour"], first["control_tier"]) == (1, "红", "公司")
    assert first["accident_types"] == ["火灾", "其他爆炸", "中毒和窒息"]
    assert (first["responsible_person"], first["responsible_mobile"]) == ("王安全", "13912345678")
    register = filing.repository.get(RiskPointRegister.create_id(enterprise))
    assert register.version == 2  # opened, then one RowsChanged for the page of 40 risk points

    rid = answer["results"][2]["risk_point_id"]
    riskpoints.update(enterprise, rid, {"location": "新址"})
    riskpoints.assess(enterprise, rid, {"method": "LS", "scores": {"L": 5, "S": 5}}, "", "", ["邻厂"])
    retired = answer["results"][3]["risk_point_id"]
    riskpoints.retire(enterprise, retired, "拆除")
    deliver(riskpoints, filing, position)
    rows = {r["risk_point_id"]: r for r in riskpoint_register(filing, enterprise)}
    assert (rows[rid]["location"], rows[rid]["level"], rows[rid]["control_tier"]) == ("新址", 1, "公司")
    assert retired not in rows and len(rows) == 39
    assert riskpoint_register(filing, str(uuid.uuid4())) == []


POINT = {
    "external_id": "RP-1",
    "name": "液氯<钢瓶>库",
    "location": "二号库房",
    "category": "设备设施",
    "accident_types": ["中毒和窒息"],
    "level": 2,
    "colour": "橙",
    "level_label": "较大风险",
    "control_tier": "车间",
    "assessment": {"method": "LEC", "value": 270},
    "control_measures": [{"type": "视频监控", "description": "库房视频 24 小时监控"}],
    "emergency_measures": ["佩戴空气呼吸器，喷淋稀碱液"],
    "responsible_unit": "储运车间",
    "responsible_person": "赵六",
    "responsible_mobile": "13800001111",
}


def test_the_html_card_shows_the_risk_and_escapes_the_text() -> None:
    content_type, content, name = card.render(POINT, "html", "测试化工")
    page = content.decode("utf-8")
    assert content_type == "text/html; charset=utf-8" and name == "warning-card-RP-1.html"
    assert "液氯&lt;钢瓶&gt;库" in page and "<钢瓶>" not in page
    for text in ("岗位风险告知卡", "较大风险", "【视频监控】", "赵六", "13800001111", "D = 270", "#f28e2b"):
        assert text in page


def test_the_pdf_card_embeds_a_cjk_font() -> None:
    assert card.cjk_font() is not None, "no CJK font: `make setup` installs fonts-wqy-microhei"
    content_type, content, _ = card.render(POINT, "pdf", "测试化工")
    assert (
        content_type == "application/pdf"
        and content.startswith(b"%PDF-")
        and content.rstrip().endswith(b"%%EOF")
    )
    assert b"/ToUnicode" in content and (b"WenQuanYi" in content or b"Noto" in content)


def test_an_unknown_card_format_is_refused() -> None:
    with pytest.raises(card.ValidationError):
        card.render(POINT, "docx")


def test_a_register_kept_between_pages_never_carries_an_unsaved_change(
    apps: tuple[RiskPointsApplication, FilingApplication],
) -> None:
    riskpoints, filing = apps
    enterprise = str(uuid.uuid4())
    riskpoints.upsert_batch(enterprise, [item(i) for i in range(3)])
    position = deliver(riskpoints, filing)
    riskpoints.upsert_batch(enterprise, [item(i) for i in range(3, 6)])
    envelopes, _ = envelopes_after(riskpoints, position, 1000)

    # A page that fails while applying: its staged rows must not reach the next page.
    broken = UnitOfWork(filing)
    for envelope in envelopes:
        handlers.apply(broken, envelope.replace(payload={**envelope.payload, "location": "坏页"}))
    # A page that fails while saving, after its events were collected.
    failing = UnitOfWork(filing)
    for envelope in envelopes[:1]:
        handlers.apply(failing, envelope)
    failing.collect(ProcessingEvent(Tracking("riskpoints", envelopes[0].notification_id)))

    register = filing.repository.get(RiskPointRegister.create_id(enterprise))
    assert len(register.rows) == 3
    deliver(riskpoints, filing, position)  # the real next page
    rows = riskpoint_register(filing, enterprise)
    assert len(rows) == 6 and filing.repository.get(register.id).version == 3
    assert "坏页" not in {r["location"] for r in rows}


def test_the_pdf_card_keeps_the_html_cards_table_borders_and_shading(tmp_path: Path) -> None:
    import subprocess

    from PIL import Image

    _, content, _ = card.render(POINT, "pdf", "测试化工")
    (tmp_path / "card.pdf").write_bytes(content)
    subprocess.run(
        ["pdftoppm", "-r", "50", "-png", str(tmp_path / "card.pdf"), str(tmp_path / "card")], check=True
    )
    image = Image.open(next(tmp_path.glob("card*.png"))).convert("RGB")
    colours = dict((rgb, n) for n, rgb in image.getcolors(maxcolors=1 << 20) or [])
    shaded = sum(n for rgb, n in colours.items() if all(abs(c - 0xF2) <= 2 for c in rgb))
    border = sum(n for rgb, n in colours.items() if all(c <= 0x60 for c in rgb))
    area = image.width * image.height
    assert shaded / area > 0.03  # the label column, #f2f2f2 as in the HTML card
    assert border / area > 0.005  # the cells' borders (and the text)

    # a row per label, each with a horizontal border: count rows of mostly-dark pixels in the table
    def dark_row(y: int) -> bool:
        dark = sum(1 for x in range(0, image.width, 4) if max(image.getpixel((x, y))) < 0x80)
        return dark > image.width / 4 * 0.6

    assert sum(1 for y in range(image.height) if dark_row(y)) >= len(card.rows(POINT)) + 1
