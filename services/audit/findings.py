"""What the audit finds wrong, named by store, event (or range) and kind."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = {
    "altered": "the stored event's bytes differ from the recorded leaf",
    "removed": "a recorded event is no longer in the store",
    "inserted": "an event sits among recorded ones but was never recorded",
    "unlinked": "no valid write-time link: written or changed past the hub's services",
    "records": "the audit service's own records are missing or rewritten",
    "head": "a signed head does not match the store, or is not validly signed",
    "truncated": "the store holds fewer events than a signed head or anchor",
    "rewritten": "the store's tree differs from an anchor below its size",
    "forked": "the hub signed two different heads for the same place in the log",
    "anchor": "an anchor does not verify under the key it names",
}


@dataclass(frozen=True)
class Finding:
    """One thing that does not match: the event (or the first of a range of them) and what is wrong."""

    kind: str
    store: str
    notification_id: int = 0
    originator_id: str = ""
    originator_version: int = 0
    detail: str = ""
    last_id: int = 0  # the last notification id of a range (0: one event)
    count: int = 1  # events in the range

    def describe(self) -> str:
        where = f"#{self.notification_id}"
        if self.last_id > self.notification_id:
            where += f"..#{self.last_id} ({self.count} events)"
        who = f" {self.originator_id} v{self.originator_version}" if self.originator_id else ""
        return f"{self.store} {where}{who}: {self.kind}" + (f" ({self.detail})" if self.detail else "")
