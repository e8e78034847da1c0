"""The house rule: configuration is read once per process, by Settings.from_env(), and passed on. No
other module of the hub reads the environment (at import time or later), but for the few named here."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ("services", "gateway", "departments", "console", "hubctl")
ANY = "*"
# module -> the variables it may touch (ANY: whatever it is given)
ALLOWED: dict[str, set[str]] = {
    "services/backbone/settings.py": {ANY},  # the one place configuration is read
    "services/audit/server.py": {"PGOPTIONS"},  # a write for libpq: read-only sessions
    "gateway/adapter/credentials.py": {ANY},  # `env:NAME` credential references, by design
    "hubctl/demo.py": {"XDG_DATA_HOME"},  # the demo enterprises' own key folder, not the hub's
}


def _is_environ(node: ast.AST) -> bool:
    """os.environ, os.getenv, os.putenv, os.unsetenv (or the names imported from os)."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
        return node.attr in ("environ", "environb", "getenv", "getenvb", "putenv", "unsetenv")
    return False


def _variable(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> str:
    """The variable a use of the environment names, when it names one as a literal; ANY otherwise."""
    parent = parents.get(node)
    if isinstance(parent, ast.Subscript) and isinstance(parent.slice, ast.Constant):
        return str(parent.slice.value)
    if isinstance(parent, ast.Call) and parent.func is node:  # os.getenv("X")
        call = parent
    elif isinstance(parent, ast.Attribute) and isinstance(parents.get(parent), ast.Call):
        call = parents[parent]  # os.environ.get("X"), .setdefault("X", …), .pop("X")
    else:
        return ANY
    if isinstance(call, ast.Call) and call.args and isinstance(call.args[0], ast.Constant):
        return str(call.args[0].value)
    return ANY


def uses(source: str) -> list[tuple[int, str]]:
    """(line, variable) of every use of the process environment in a module's source."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = [(n.lineno, _variable(n, parents)) for n in ast.walk(tree) if _is_environ(n)]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [
                (node.lineno, ANY)
                for alias in node.names
                if alias.name in ("environ", "environb", "getenv", "getenvb", "putenv", "unsetenv")
            ]
    return found


def test_only_settings_reads_the_environment() -> None:
    broken = []
    for package in CHECKED:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            allowed = ALLOWED.get(name, set())
            for line, variable in uses(path.read_text(encoding="utf-8")):
                if ANY not in allowed and variable not in allowed:
                    broken.append(f"{name}:{line} ({variable})")
    assert not broken, "read the environment outside Settings.from_env(): " + ", ".join(broken)


def test_the_scan_sees_every_way_of_reading_it() -> None:
    source = """
import os
from os import getenv
a = os.environ.get("A")
b = os.environ["B"]
c = os.getenv("C", "")
d = dict(os.environ)
os.environ.setdefault("E", "1")
"""
    assert sorted(uses(source)) == [(3, ANY), (4, "A"), (5, "B"), (6, "C"), (7, ANY), (8, "E")]


def test_the_allowed_modules_still_exist() -> None:
    assert all((ROOT / name).is_file() for name in ALLOWED)
