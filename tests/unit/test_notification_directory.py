"""Finding the registered enterprise a free-text adjacent unit names."""

from __future__ import annotations

from services.notifications.views import Directory


def directory(*names: tuple[str, str]) -> Directory:
    d = Directory()
    for eid, name in names:
        d.record_enterprise(enterprise_id=eid, name=name, town="张山子镇", old_town="")
    return d


def test_the_longest_name_in_the_text_wins_and_the_enterprise_itself_is_left_out() -> None:
    d = directory(("a", "鲁南化肥厂"), ("b", "鲁南化肥厂二分厂"), ("c", "峄城区石料厂"))
    assert d.enterprise_named_in("东邻：鲁南化肥厂二分厂仓库") == "b"
    assert d.enterprise_named_in("东邻：鲁南化肥厂") == "a"
    assert d.enterprise_named_in("东邻：鲁南化肥厂", besides="a") is None
    assert d.enterprise_named_in("西邻：农田") is None


def test_an_enterprise_registered_after_a_lookup_is_found_by_the_next() -> None:
    d = directory(("a", "鲁南化肥厂"))
    assert d.enterprise_named_in("北邻张山子镇煤矿") is None
    d.record_enterprise(enterprise_id="d", name="张山子镇煤矿", town="张山子镇", old_town="")
    assert d.enterprise_named_in("北邻张山子镇煤矿") == "d"


def test_a_directory_of_a_province_finds_a_name_among_a_hundred_thousand() -> None:
    d = directory(*((f"e{n}", f"第{n}号化工企业有限公司") for n in range(100_000)))
    assert d.enterprise_named_in("南邻：第73512号化工企业有限公司东厂区") == "e73512"
    assert d.enterprise_named_in("南邻：第号化工企业") is None
