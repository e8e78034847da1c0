"""How the console's read model groups a page's statements into executemany calls (store._grouped)."""

from __future__ import annotations

import random
import re

from console.readmodel.store import Dialect, _grouped, _tables

POINT = "INSERT INTO @risk_points (id, town) SELECT %(id)s, town FROM @enterprises WHERE id = %(e)s"
INDEX = "INSERT INTO @events (upstream, notification_id) VALUES (%(u)s, %(n)s)"
RECOUNT = "UPDATE @enterprises SET level1 = (SELECT count(*) FROM @risk_points WHERE enterprise_id = %(e)s)"
RENAME = "UPDATE @enterprises SET name = %(name)s WHERE id = %(e)s"
RETIRE = "UPDATE @risk_points SET retired = 1 WHERE id = %(id)s"


def test_an_import_page_alternating_rows_and_index_lines_is_two_groups_in_order() -> None:
    statements = []
    for i in range(300):
        statements += [(POINT, {"id": i, "e": "a"}), (INDEX, {"u": "riskpoints", "n": i})]
    statements.append((RECOUNT, {"e": "a"}))
    groups = _grouped(statements)
    assert [text for text, _ in groups] == [POINT, INDEX, RECOUNT]
    assert [p["id"] for p in groups[0][1]] == list(range(300))
    assert [p["n"] for p in groups[1][1]] == list(range(300))


def test_a_statement_never_moves_past_one_naming_a_table_it_names() -> None:
    statements = [
        (POINT, {"id": 1, "e": "a"}),
        (RENAME, {"name": "乙", "e": "a"}),  # the next point's town must be read after this change
        (POINT, {"id": 2, "e": "a"}),
        (INDEX, {"u": "registry", "n": 1}),
        (RETIRE, {"id": 1}),
        (INDEX, {"u": "registry", "n": 2}),
        (POINT, {"id": 3, "e": "a"}),  # after RETIRE (same table): a group of its own
    ]
    groups = _grouped(statements)
    assert [(text, len(params)) for text, params in groups] == [
        (POINT, 1),
        (RENAME, 1),
        (POINT, 1),
        (INDEX, 2),
        (RETIRE, 1),
        (POINT, 1),
    ]
    flattened = [(text, p) for text, params in groups for p in params]
    tables_order = [(t, p) for t, p in flattened if t != INDEX]
    assert tables_order == [s for s in statements if s[0] != INDEX]  # every non-index statement in order


def test_every_statement_is_kept_once_for_any_mix() -> None:
    rng = random.Random(7)
    texts = [POINT, INDEX, RECOUNT, RENAME, RETIRE]
    for _ in range(200):
        statements = [(rng.choice(texts), {"k": i}) for i in range(rng.randint(0, 40))]
        groups = _grouped(statements)
        flattened = [(text, p) for text, params in groups for p in params]
        assert sorted(p["k"] for _, p in flattened) == list(range(len(statements)))
        # statements sharing a table keep their relative order
        for i, (a, pa) in enumerate(flattened):
            for b, pb in flattened[i + 1 :]:
                if set(_tables_of(a)) & set(_tables_of(b)):
                    assert pa["k"] < pb["k"], (a, b)


def _tables_of(text: str) -> list[str]:
    return re.findall(r"@(\w+)", text)


def test_a_list_of_ids_is_one_parameter_in_either_dialect() -> None:
    text = "SELECT v.id FROM @ids(ids) AS v JOIN @risk_points r ON r.id = v.id WHERE r.enterprise_id = %(e)s"
    postgres, sqlite = Dialect("t1_console"), Dialect()
    assert postgres.sql(text) == (
        "SELECT v.id FROM (SELECT unnest(CAST(%(ids)s AS text[])) AS id) AS v "
        'JOIN "t1_console".risk_points r ON r.id = v.id WHERE r.enterprise_id = %(e)s'
    )
    assert sqlite.sql(text) == (
        "SELECT v.id FROM (SELECT value AS id FROM json_each(:ids)) AS v JOIN risk_points r "
        "ON r.id = v.id WHERE r.enterprise_id = :e"
    )
    assert postgres.id_list(iter(["a", "b"])) == ["a", "b"]
    assert sqlite.id_list(iter(["a", "b"])) == '["a", "b"]'
    assert _tables(text) == {"risk_points"}  # the list is no table: statements about it keep no order
