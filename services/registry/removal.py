"""Removing a department: it gets no more filings and leaves the routing; what it was sent stays."""

from __future__ import annotations

from typing import Any

from services.backbone.conflicts import retried
from services.backbone.errors import NotFoundError
from services.registry.base import RegistryBase
from services.registry.departments import Department, department_id
from services.registry.operator_input import department_code


class DepartmentRemoval(RegistryBase):
    """The operator's removal of a department (a closed office, a code registered by mistake)."""

    @retried
    def remove_department(self, code: str) -> dict[str, Any]:
        """Removes the department from the directory and from every routing rule, and re-routes the
        enterprises it supervised (routed or added by hand): their filings no longer go to it, and
        a removed town office no longer supervises its town. Its record and the filings it was sent
        stay in the history (the code is not given to another department). Removing it again
        answers removed=False."""
        clean = department_code(code, "code")
        department = self.find(department_id(clean))
        if not isinstance(department, Department):
            raise NotFoundError("code", f"no department {clean}")
        if not department.remove():
            return {"code": clean, "removed": False, "reassigned": 0}
        directory, table, reindexer = self._directory(), self._table(), self._reindexer()
        records: list[Any] = [department]
        if clean in directory:
            directory.leave(clean)
            records.append(directory)
        if table.drop_department(clean):
            records.append(table)
        supervised = self._enterprises(self._members("department", clean))
        changed = [
            e
            for e in supervised
            if self._route(
                e, table, directory, reindexer, manual=[m for m in e.manual_supervisors if m != clean]
            )
        ]
        self.save(*records, *changed, *reindexer.indexes())
        return {"code": clean, "removed": True, "reassigned": len(changed)}
