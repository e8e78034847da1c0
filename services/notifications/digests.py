"""Adjacent-unit notices gathered per page: one message per recipient for all of an enterprise's points.

An enterprise that imports its register names the same neighbours for many level 1 and 2 risk points. Told
point by point, a neighbour (or the town office) would get dozens of messages within a second, and the
send queue would hold them for hours behind the channel's rate limit. The notices of one consumer page
are gathered per (template, recipient, enterprise) and sent as one message listing the points, at most
POINTS_PER_MESSAGE each. A single point reads as before.

Each message is caused by the first event it lists: its id derives from that event (as for any
notification), so a page applied again makes the same messages and none twice, and it carries that
event's correlation id. A page applied one message at a time (after a failure) tells point by point,
as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.backbone import correlation
from services.backbone.handlers import UnitOfWork
from services.notifications import requests, templates
from services.notifications.requests import Cause

POINTS_PER_MESSAGE = 10
KIND = "adjacent_risk"

# The template of one point, of several, and how each point reads in the list of several.
LINES: dict[str, tuple[str, str]] = {
    "adjacent_risk": (
        "adjacent_risk_many",
        "“{risk_point}”（{location}，{level}级{colour}色，可能导致{accidents}）",
    ),
    "adjacent_risk_office": (
        "adjacent_risk_office_many",
        "“{risk_point}”（{location}，{level}级{colour}色，可能导致{accidents}；相邻单位{units}）",
    ),
    "adjacent_risk_self": (
        "adjacent_risk_self_many",
        "“{risk_point}”（{level}级{colour}色，相邻单位{units}）",
    ),
}


@dataclass
class Group:
    template: str
    recipients: list[dict[str, str]]
    shared: dict[str, Any]  # the fields every point of the message shares (unit, enterprise)
    points: list[tuple[Cause, dict[str, Any]]] = field(default_factory=list)


class AdjacentDigest:
    """The page's adjacent-unit notices, by template, recipient and enterprise, in the order first seen."""

    def __init__(self) -> None:
        self.groups: dict[tuple[str, str, str], Group] = {}

    def add(
        self,
        cause: Cause,
        template: str,
        target: str,
        recipients: list[dict[str, str]],
        shared: dict[str, Any],
        point: dict[str, Any],
    ) -> None:
        key = (template, target, str(cause.enterprise_id))
        group = self.groups.setdefault(key, Group(template, recipients, shared))
        group.points.append((cause, point))

    def flush(self, uow: UnitOfWork) -> None:
        messages = [
            (group, group.points[start : start + POINTS_PER_MESSAGE])
            for group in self.groups.values()
            for start in range(0, len(group.points), POINTS_PER_MESSAGE)
        ]
        # whether each was requested before (a page applied again): looked up together, not one by one
        uow.prefetch(
            i for group, chunk in messages for i in requests.requested_ids(chunk[0][0], group.recipients)
        )
        for group, chunk in messages:
            cause = chunk[0][0]
            # flushed after the page's handlers ran: the message carries its first event's correlation
            with correlation.bound(getattr(cause, "correlation_id", None)):
                requests.request(uow, cause, KIND, group.recipients, text_of(group, chunk))
        self.groups.clear()


def text_of(group: Group, chunk: list[tuple[Cause, dict[str, Any]]]) -> str:
    if len(chunk) == 1:
        return templates.render(group.template, **group.shared, **chunk[0][1])
    many, line = LINES[group.template]
    points = "；".join(line.format_map(point) for _, point in chunk)
    return templates.render(many, **group.shared, count=len(chunk), points=points)


def digest(uow: UnitOfWork) -> AdjacentDigest:
    return uow.gathering("adjacent-digest", AdjacentDigest)
