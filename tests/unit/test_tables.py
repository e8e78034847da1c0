"""hubctl's tables fit the terminal: columns chosen by priority, text wrapped, ids never cut."""

from __future__ import annotations

import json

import pytest
from rich.cells import cell_len
from rich.console import Console

from hubctl.tables import Column, show

UUID = "3bfd8d10-6d9f-5bf9-bd8d-257ae718b658"
COLUMNS = (
    Column("name", "name (id)", width=12, sub="id"),
    Column("status", "status", keep=1, whole=True),
    Column("supervisors", "supervisors", keep=1, width=12),
    Column("code", "credit code", keep=2, whole=True),
    Column("note", "a long note", keep=3, width=20),
)
ROWS = [
    {
        "id": UUID,
        "name": f"枣庄市台儿庄区张山子{industry}第{n}厂",
        "status": "operating",
        "supervisors": ["AJJ-TEZ", "TOWN-ZSZ", "XF-TEZ"],
        "code": f"91370405700000{n:03d}X",
        "note": "看看 " * n,
    }
    for n, industry in enumerate(("化工", "建筑施工", "烟花爆竹"), start=1)
]


def render(width: int, columns: tuple[Column, ...] = COLUMNS) -> str:
    console = Console(width=width, record=True, color_system=None)
    show("Enterprises", columns, ROWS, console=console)
    return console.export_text()


@pytest.mark.parametrize("width", [40, 60, 80, 100, 132, 200])
def test_every_line_fits_and_nothing_is_cut(width: int) -> None:
    text = render(width)
    assert max(cell_len(line) for line in text.splitlines()) <= width
    assert "…" not in text
    for row in ROWS:
        assert row["id"] in text  # whole, on one line
        assert "".join(text.split()).count(row["name"]) == 1  # every name whole, however wrapped


def test_columns_are_left_out_by_priority_and_named() -> None:
    narrow, narrower, wide = render(72), render(60), render(200)
    assert "not shown at 72 columns: credit code, a long note" in " ".join(narrow.split())
    assert "status" in narrow and "supervisors" in narrow
    assert "not shown at 60 columns: supervisors, credit code, a long note" in " ".join(narrower.split())
    assert "not shown" not in wide and all(row["code"] in wide for row in ROWS)


def test_json_has_every_field_whatever_the_width(capsys: pytest.CaptureFixture[str]) -> None:
    show("Enterprises", COLUMNS, ROWS, as_json=True)
    assert json.loads(capsys.readouterr().out) == ROWS
    show("Enterprises", COLUMNS, ROWS, as_json=True, data={"rows": ROWS, "total": 3})
    assert json.loads(capsys.readouterr().out)["total"] == 3


def test_an_empty_listing_says_so() -> None:
    console = Console(width=80, record=True, color_system=None)
    show("Parked deliveries", COLUMNS, [], console=console, empty="none")
    assert console.export_text().strip() == "Parked deliveries: none"
