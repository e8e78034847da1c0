"""The words of the hidden-danger workflow: grades, inspection types, sources, states, transitions."""

from __future__ import annotations

from enum import StrEnum


class Grade(StrEnum):
    GENERAL = "一般"  # can be removed at once
    MAJOR = "重大"  # needs a treatment plan, and the enforcement chain when the government finds it


class InspectionType(StrEnum):
    ROUTINE = "日常"
    COMPREHENSIVE = "综合性"
    SPECIALIZED = "专业性"
    SEASONAL = "季节性"
    PRE_HOLIDAY = "节假日前"
    PRE_RESUMPTION = "复产复工前"
    ACCIDENT_ANALOGY = "事故类比"


class Source(StrEnum):
    SELF_INSPECTION = "self_inspection"
    GOVERNMENT_INSPECTION = "government_inspection"


class State(StrEnum):
    REPORTED = "reported"
    ASSESSED = "assessed"
    RECTIFYING = "rectifying"
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    CLOSED = "closed"  # 销号


# What each command needs the danger to be, and how a refusal names it.
ALLOWED: dict[str, tuple[set[State], str]] = {
    "assess": ({State.REPORTED}, "assess"),
    "plan": ({State.ASSESSED, State.RECTIFYING}, "plan the rectification of"),
    "submit": ({State.RECTIFYING}, "submit the rectification of"),
    "verify": ({State.SUBMITTED}, "verify"),
    "send_back": ({State.SUBMITTED}, "send back"),
    "close": ({State.VERIFIED}, "close (销号)"),
}
