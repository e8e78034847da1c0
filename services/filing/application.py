"""The filing service's application: compiling and submitting registers (compiling.py), the ledger
of departments' answers and the pull feed (ledger.py), campaigns and 一镇一册 (town.py), each
department's deliveries by state (deliveries.py)."""

from __future__ import annotations

from services.filing.compiling import Compiling
from services.filing.danger_views import DangerRegister
from services.filing.deliveries import DeliveryTally
from services.filing.domain import FilingIndex
from services.filing.ledger import Ledger
from services.filing.riskpoint_views import RiskPointRegister
from services.filing.town import Town
from services.filing.views import DepartmentsView, EnterpriseView, TownIndex


class FilingApplication(Compiling, Ledger, Town, DeliveryTally):
    """The filing service's application."""

    service = "filing"
    snapshotting_intervals = {
        EnterpriseView: 100,
        FilingIndex: 50,
        TownIndex: 1000,
        DepartmentsView: 100,
        RiskPointRegister: 50,
        DangerRegister: 50,
    }
