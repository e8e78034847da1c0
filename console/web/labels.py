"""Every word an official reads that the hub stores in another form: states, steps, levels, dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

SHANGHAI = timezone(timedelta(hours=8))
LEVELS = {1: "重大风险", 2: "较大风险", 3: "一般风险", 4: "低风险"}
LEVEL_COLOURS = {1: "#d9001b", 2: "#f08c00", 3: "#e6c200", 4: "#1f6fd1"}
COLOUR_NAMES = {1: "红", 2: "橙", 3: "黄", 4: "蓝"}
ENTERPRISE_STATUS = {"operating": "正常生产", "suspended": "停产整顿", "closed": "关闭取缔"}
DELIVERY = {
    "pending": "待送达",
    "delivered": "已送达",
    "acknowledged": "已签收",
    "rejected": "已退回",
    "parked": "投递暂停",
}
DANGER_STATE = {
    "reported": "已上报",
    "assessed": "已评估",
    "rectifying": "整改中",
    "submitted": "待验收",
    "verified": "已验收",
    "closed": "已销号",
}
CASE_STEP = {
    "opened": "立案查处",
    "penalised": "顶格处罚",
    "exposed": "公开曝光",
    "suspended": "停产整顿",
    "closed": "关闭取缔",
    "concluded": "复查合格结案",
}
STANDING = {"on_time": "按期报备", "late": "逾期报备", "missing": "未报备", "pending": "待报备"}
STANDING_COLOURS = {"on_time": "#2e7d32", "late": "#f08c00", "missing": "#d9001b", "pending": "#8c8c8c"}
SOURCE = {"self_inspection": "企业自查", "government_inspection": "政府检查"}
CHAIN = {"signed": "已签名", "unsigned": "待签名", "altered": "与记录不符"}


def local_time(value: str | None, with_time: bool = True) -> str:
    """An ISO 8601 moment as Asia/Shanghai local time ("2016-09-15 14:03"); a date stays a date."""
    if not value:
        return "—"
    text = str(value)
    if len(text) == 10:
        return text
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(SHANGHAI)
    return local.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def label(table: dict[str, str], value: str) -> str:
    """The Chinese word for a stored value; a value no table knows shows as 其他, never as itself."""
    return table.get(str(value), "其他") if value else "—"


def month_zh(month: str) -> str:
    """'2016-09' → '2016年9月'."""
    try:
        year, number = month.split("-")
        return f"{int(year)}年{int(number)}月"
    except ValueError:
        return month
