"""The small town `hubctl demo` files for: enterprises of several industries and their risk points."""

from __future__ import annotations

from typing import Any

from hub.v1 import enterprise_pb2 as epb
from hub.v1 import riskpoint_pb2 as rpb

from services.kernel.validation import org_code_check_digit, uscc_check_digit

TOWN = "张山子镇"
INDUSTRIES = ("化工", "建筑施工", "烟花爆竹", "冶金", "食品加工", "仓储物流")
# (name, location, category, accident types, LEC scores) per industry; levels follow from the scores
HAZARDS: dict[str, list[tuple[str, str, str, list[str], dict[str, float]]]] = {
    "化工": [
        ("氯化反应釜", "一车间", "生产系统", ["火灾", "其他爆炸", "中毒和窒息"], {"L": 6, "E": 6, "C": 15}),
        ("液氨储罐区", "罐区", "设备设施", ["容器爆炸", "中毒和窒息"], {"L": 3, "E": 6, "C": 15}),
        ("输送管廊", "厂区东侧", "输送管线", ["火灾", "灼烫"], {"L": 3, "E": 6, "C": 7}),
    ],
    "建筑施工": [
        ("深基坑", "3 号楼", "施工场所", ["坍塌", "高处坠落"], {"L": 6, "E": 6, "C": 15}),
        ("塔吊", "施工现场", "设备设施", ["起重伤害", "物体打击"], {"L": 3, "E": 6, "C": 15}),
    ],
    "烟花爆竹": [
        ("药物混合工房", "生产区", "生产系统", ["火药爆炸", "火灾"], {"L": 6, "E": 6, "C": 15}),
        ("成品仓库", "库区", "设备设施", ["火药爆炸"], {"L": 3, "E": 6, "C": 7}),
    ],
    "冶金": [
        ("熔炼炉", "熔炼车间", "生产系统", ["灼烫", "其他爆炸"], {"L": 3, "E": 6, "C": 15}),
        ("煤气管网", "厂区", "输送管线", ["中毒和窒息", "其他爆炸"], {"L": 3, "E": 6, "C": 7}),
    ],
    "食品加工": [
        ("冷库氨制冷", "冷库", "设备设施", ["中毒和窒息"], {"L": 3, "E": 6, "C": 7}),
        ("切割机", "加工车间", "操作行为", ["机械伤害"], {"L": 1, "E": 6, "C": 7}),
    ],
    "仓储物流": [
        ("叉车作业", "仓库", "操作行为", ["车辆伤害"], {"L": 3, "E": 6, "C": 7}),
        ("高位货架", "仓库", "设备设施", ["物体打击", "坍塌"], {"L": 1, "E": 6, "C": 7}),
    ],
}


def uscc(n: int) -> str:
    org8 = f"{70000000 + n:08d}"
    first17 = "91370405" + org8 + org_code_check_digit(org8)
    return first17 + uscc_check_digit(first17)


def profile(n: int) -> epb.EnterpriseProfile:
    industry = INDUSTRIES[n % len(INDUSTRIES)]
    return epb.EnterpriseProfile(
        unified_social_credit_code=uscc(n),
        name=f"枣庄市台儿庄区张山子{industry}第{n + 1}厂",
        legal_representative=f"孙{'明强伟芳军丽'[n % 6]}",
        legal_representative_mobile=f"139{(n * 7919) % 100000000:08d}",
        industry=industry,
        address=f"{TOWN}工业园 {n + 1} 号",
        town=TOWN,
        contacts=[epb.Contact(name="赵安全", role="安全管理员", mobile=f"138{(n * 104729) % 100000000:08d}")],
    )


def risk_points(n: int) -> list[rpb.RiskPointInput]:
    industry = INDUSTRIES[n % len(INDUSTRIES)]
    items = []
    for i, (name, location, category, accidents, scores) in enumerate(HAZARDS[industry]):
        severe = scores["L"] * scores["E"] * scores["C"] >= 160
        items.append(
            rpb.RiskPointInput(
                external_id=f"DEMO-{n:03d}-{i}",
                name=name,
                location=location,
                category=category,
                accident_types=accidents,
                assessment=rpb.AssessmentInput(method=rpb.ASSESSMENT_METHOD_LEC, scores=scores),
                responsible_unit=location,
                responsible_person="钱主任",
                responsible_mobile=f"137{(n * 31 + i) % 100000000:08d}",
                control_measures=[
                    rpb.ControlMeasure(type="制度管理", description="严格执行安全操作规程，每班巡检"),
                    rpb.ControlMeasure(type="在线监测", description="关键参数在线监测，超限报警"),
                ],
                emergency_measures=["立即停止作业，撤离人员", "拨打 119、120，报告值班领导"],
                adjacent_units=["东邻：相邻企业"] if severe else [],
            )
        )
    return items


def summary_row(n: int, version: int, digest: str, ledger: dict[str, Any]) -> dict[str, Any]:
    """What `hubctl demo` shows of one enterprise's filing: its name with its credit code beneath
    (the town's names differ only at their end), one line per department's answer."""
    who = profile(n)
    return {
        "enterprise": who.name,
        "unified_social_credit_code": who.unified_social_credit_code,
        "version": version,
        "document_hash": digest,
        "sm3": digest[:12],
        "departments": "\n".join(f"{code} {state}" for code, state in sorted(ledger.items())),
        "ledger": ledger,
    }
