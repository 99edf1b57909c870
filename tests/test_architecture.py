"""DESIGN §4: apps are bounded contexts and imports point down the list, never up. The ground floor (journal,
messaging, identity) knows no other app, except that every change writes its journal entry, so messaging and
identity may call the journal, which knows nobody. `moncompte.web` (view helpers) and the project modules sit apart."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "moncompte"

#: Each app and the apps it may import. Apps register with the ground floor (undo handlers, contact resolver),
#: never the other way round.
MAY_IMPORT = {
    "journal": set(),
    "messaging": {"journal"},
    "identity": {"journal"},
    "verification": {"messaging", "journal", "identity"},
    "households": {"journal", "messaging", "identity", "verification"},
    "accounts": {"journal", "messaging", "identity", "verification", "households"},
}
NOT_APPS = {"web", "logging", "settings", "settings_test", "urls", "wsgi", "celery"}


def imported_apps(path: Path) -> set[str]:
    apps = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "moncompte" and len(parts) > 1 and parts[1] not in NOT_APPS:
                apps.add(parts[1])
    return apps


def modules(app: str):
    for path in sorted((PACKAGE / app).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


@pytest.mark.parametrize("app", sorted(MAY_IMPORT))
def test_apps_only_import_the_apps_below_them(app):
    wrong = {
        f"{path.relative_to(PACKAGE.parent)} imports {sorted(found)}"
        for path in modules(app)
        if (found := imported_apps(path) - MAY_IMPORT[app] - {app})
    }
    assert not wrong, "\n".join(sorted(wrong))


def test_every_app_of_the_package_is_in_the_table():
    apps = {p.parent.name for p in PACKAGE.glob("*/apps.py")}
    assert apps == set(MAY_IMPORT)
