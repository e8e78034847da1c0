"""A seeded October 2026 of 张山子镇, driven through the real upstream applications in date order.

    E1 化工  registered 08-20; filed 09-10 (安监 acknowledges, the town office rejects, 10-11);
             risk points: level 1 (09-05), level 2 (10-03); danger A reported 09-15, overdue 10-05, open;
             danger B reported 10-02, closed 10-20
    E2 化工  registered 08-20; level 2 (09-01) re-graded level 3 (10-10); filed 10-20 (late)
    E3 建筑  registered 08-20; never files; major danger C reported 10-12, open;
             level 1 (10-20) retired 10-25
    E4 化工  registered 10-05; filed 10-10 (安监 acknowledges 10-11)
    E5 化工  registered 08-20; closed 09-30
The deadline is the 15th (infra/notifications.yaml), unless a campaign says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.dangers import clock as dangers_clock
from services.dangers.application import DangersApplication
from services.filing.application import FilingApplication
from services.notifications.application import NotificationsApplication
from services.registry.application import RegistryApplication
from services.riskpoints.application import RiskPointsApplication
from tests import dangers_data
from tests.notifications_data import (
    AJ,
    POPO,
    TOWN_OFFICE,
    Feed,
    answer,
    register,
    registry_with_departments,
    submit,
)
from tests.riskpoint_factories import LEC_SCORES, item

NOW = datetime.now(UTC)


def at(day: str) -> str:
    """10:00 China time on a day of 2026 ("10-05")."""
    return f"2026-{day}T02:00:00+00:00"


@dataclass
class Seeded:
    notifications: NotificationsApplication
    registry: RegistryApplication
    riskpoints: RiskPointsApplication
    dangers: DangersApplication
    filing: FilingApplication
    ids: dict[str, str]

    def close(self) -> None:
        for app in (self.notifications, self.registry, self.riskpoints, self.dangers, self.filing):
            app.close()


def _danger(dangers: DangersApplication, eid: str, grade: str, description: str) -> str:
    danger = str(
        dangers.report(eid, dangers_data.report(description=description), dangers_data.owns)["danger_id"]
    )
    dangers.assess(eid, danger, {"grade": grade, "assessed_by": "安全科", "removable_now": False})
    return danger


def seed(notifications: NotificationsApplication | None = None, campaign: str = "") -> Seeded:
    """Everything above, fed to `notifications` (a new in-memory one when None)."""
    registry = registry_with_departments()
    s = Seeded(
        notifications or NotificationsApplication(env=POPO),
        registry,
        RiskPointsApplication(env=POPO),
        DangersApplication(env=POPO),
        FilingApplication(env=POPO),
        {},
    )
    feed, ids, rp, dg, fl = Feed(s.notifications), s.ids, s.riskpoints, s.dangers, s.filing
    for n, industry in ((1, "化工"), (2, "化工"), (3, "建筑"), (5, "化工")):
        ids[f"E{n}"] = register(registry, n, industry=industry)
    feed.follow(registry, at("08-20"))
    points = {"E2": rp.create(ids["E2"], item(21, level=2))["risk_point_id"]}
    feed.follow(rp, at("09-01"))
    rp.create(ids["E1"], item(11, level=1))
    feed.follow(rp, at("09-05"))
    e1_filing = submit(fl, ids["E1"], 1, [AJ, TOWN_OFFICE], at("09-10"))
    if campaign:
        fl.open_campaign("张山子镇", "2026 年 10 月报备", campaign)
    feed.follow(fl, at("09-10"))
    for key in ("E1", "E3"):
        dangers_data.known_enterprise(dg, ids[key])
    ids["A"] = _danger(dg, ids["E1"], "一般", "配电箱接地线脱落")
    dg.plan(ids["E1"], ids["A"], dangers_data.plan(), NOW)
    feed.follow(dg, at("09-15"))
    registry.close_enterprise(ids["E5"], "关闭", "关〔2026〕1号", "TOWN-ZSZ", "2026-09-30")
    feed.follow(registry, at("09-30"))
    ids["B"] = _danger(dg, ids["E1"], "一般", "消防通道堵塞")
    feed.follow(dg, at("10-02"))
    rp.create(ids["E1"], item(12, level=2))
    feed.follow(rp, at("10-03"))
    dg.check_deadlines(dangers_clock.instant("2030-01-02T00:00:00+08:00"))  # A falls overdue
    feed.follow(dg, at("10-05"))
    ids["E4"] = register(registry, 4, industry="化工")
    feed.follow(registry, at("10-05"))
    e4_filing = submit(fl, ids["E4"], 1, [AJ, TOWN_OFFICE], at("10-10"))
    answer(fl, e4_filing, AJ, "acknowledged")
    answer(fl, e1_filing, AJ, "acknowledged")
    answer(fl, e1_filing, TOWN_OFFICE, "rejected", "缺少应急处置措施")
    feed.follow(fl, at("10-11"))
    rp.assess(ids["E2"], points["E2"], {"method": "LEC", "scores": dict(LEC_SCORES[3])}, "加装联锁")
    feed.follow(rp, at("10-10"))
    ids["C"] = _danger(dg, ids["E3"], "重大", "深基坑支护变形")
    feed.follow(dg, at("10-12"))
    e3_point = rp.create(ids["E3"], item(31, level=1))["risk_point_id"]
    feed.follow(rp, at("10-20"))
    rp.retire(ids["E3"], e3_point, "工程完工")
    feed.follow(rp, at("10-25"))
    submit(fl, ids["E2"], 1, [AJ, TOWN_OFFICE], at("10-20"))
    feed.follow(fl, at("10-20"))
    dg.plan(ids["E1"], ids["B"], dangers_data.plan(), NOW)
    dg.submit(ids["E1"], ids["B"], dangers_data.submission())
    dg.verify(AJ, ids["B"], {"by": "吴科长", "on": "2026-10-20", "remarks": "合格"})
    dg.close_danger(AJ, ids["B"], {"by": "吴科长", "on": "2026-10-20"})
    feed.follow(dg, at("10-20"))
    return s


def totals(**values: Any) -> dict[str, int]:
    keys = (
        "enterprises",
        "filed",
        "late",
        "missing",
        "not_due",
        "open_dangers",
        "overdue_dangers",
        "major_dangers",
    )
    return {k: int(values.get(k, 0)) for k in (*keys, "level1", "level2")}
