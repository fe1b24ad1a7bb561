"""The layering ARCHITECTURE.md asks for, checked on the source: who may import what, and no import circles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAT_AND_HTTP = ("slack_bolt", "slack_sdk", "msal", "jwt", "httpx", "requests", "aiohttp", "urllib.request",
                 "http.client", "waitress")  # fmt: skip


def imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def modules(package: str) -> dict[str, Path]:
    return {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): path
        for path in sorted((ROOT / package).rglob("*.py"))
    }


@pytest.mark.parametrize("package", ["handlers", "storage", "scheduling"])
def test_no_chat_sdk_or_http_library_below_the_edge(package: str) -> None:
    offenders = [
        f"{name} imports {imported}"
        for name, path in modules(package).items()
        for imported in imports(path)
        if imported.split(".")[0] in {lib.split(".")[0] for lib in CHAT_AND_HTTP if "." not in lib}
        or imported in CHAT_AND_HTTP
    ]
    assert offenders == []


def test_handlers_never_import_sqlalchemy() -> None:
    offenders = [
        f"{name} imports {imported}"
        for name, path in modules("handlers").items()
        for imported in imports(path)
        if imported.split(".")[0] == "sqlalchemy"
    ]
    assert offenders == []


def test_no_import_circle_under_handlers() -> None:
    """Counting every import, TYPE_CHECKING ones too: a feature never reaches back to the router."""
    known = modules("handlers")
    graph = {
        name: {target for imported in imports(path) for target in (imported, imported.rsplit(".", 1)[0])
               if target in known and target != name}
        for name, path in known.items()
    }  # fmt: skip
    circles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        for target in sorted(graph[node]):
            if target in trail:
                circles.append([*trail[trail.index(target) :], target])
            elif len(trail) < 30:
                visit(target, [*trail, target])

    for start in sorted(graph):
        visit(start, [start])
    assert circles == []
