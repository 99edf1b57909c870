"""DESIGN §4: apps are bounded contexts and imports point down the list, never up. The ground floor (journal,
messaging, identity) knows no other app, except that every change writes its journal entry, so messaging and
identity may call the journal, which knows nobody. `moncompte.lib` (pure helpers, no models) is below them all: every
app may import it and it imports no module of the project. `moncompte.web` (view helpers) and the project modules
sit apart."""

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
    # The footer's fixed pages sit on top, like a channel, and need no domain app.
    "pages": set(),
}
NOT_APPS = {"web", "logging", "settings", "settings_test", "urls", "wsgi", "celery", "gunicorn_conf"}
#: Pure helpers with no models (DESIGN §4, first floor): every app may use them.
LIB = "lib"


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
        if (found := imported_apps(path) - MAY_IMPORT[app] - {app, LIB})
    }
    assert not wrong, "\n".join(sorted(wrong))


def test_lib_imports_no_module_of_the_project():
    wrong = {
        f"{path.relative_to(PACKAGE.parent)} imports {sorted(found)}"
        for path in modules(LIB)
        if (found := imported_apps(path) | imported_project_modules(path))
    }
    assert not wrong, "\n".join(sorted(wrong))


def imported_project_modules(path: Path) -> set[str]:
    """The project modules outside lib a file imports (`moncompte.web`, `moncompte.settings`…)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found |= {n for n in names if n.split(".")[0] == "moncompte" and n.split(".")[1:2] != [LIB]}
    return found


def test_every_app_of_the_package_is_in_the_table():
    apps = {p.parent.name for p in PACKAGE.glob("*/apps.py")}
    assert apps == set(MAY_IMPORT)
