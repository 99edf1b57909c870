"""DESIGN §4: domain apps are bounded contexts and their imports point down the list, never up; channels sit on top.

The ground floor (journal, messaging, identity) knows no other app, except that every change writes its journal
entry, so messaging and identity may call the journal, which knows nobody. `moncompte.lib` (pure helpers, no models)
is below them all: every app may import it and it imports no module of the project.

Channels (`web`, `phone` and `desk` today; `api` later) own every page and endpoint. A domain app never imports a
channel, a channel never imports another, and inside the web channel an area never imports another area: what
areas share lives in the channel's own top-level modules (`web/forms.py`, `web/helpers.py`); only the channel's URL
root (`web/urls.py`) assembles the areas."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "moncompte"

#: Each domain app and the apps it may import. Apps register with the ground floor (undo handlers, contact resolver),
#: never the other way round.
MAY_IMPORT = {
    "journal": set(),
    "messaging": {"journal"},
    "identity": {"journal"},
    "verification": {"messaging", "journal", "identity"},
    "households": {"journal", "messaging", "identity", "verification"},
    "legacy": {"journal", "identity", "households"},
    "partners": {"journal", "identity", "households", "legacy"},
    "accounts": {"journal", "messaging", "identity", "verification", "households"},
    "signup": {"journal", "messaging", "identity", "verification", "households", "accounts", "partners"},
    "franceconnect": {"journal", "messaging", "identity", "verification", "households", "accounts", "signup"},
    "procedures": {"journal", "messaging", "identity", "households", "partners"},
    "agency": {"journal", "messaging", "identity", "households", "partners", "procedures"},
    "incidents": {"journal", "messaging", "identity", "households", "accounts"},
}
#: The channels: they may import every domain app, and no other channel.
CHANNELS = {"web", "phone", "desk"}
NOT_APPS = {"logging", "settings", "settings_test", "urls", "wsgi", "celery", "gunicorn_conf", "context_processors"}
#: Pure helpers with no models (DESIGN §4, first floor): every app may use them.
LIB = "lib"


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.split(".")[0] == "moncompte"}


def imported_apps(path: Path) -> set[str]:
    return {
        parts[1]
        for name in imported_modules(path)
        if len(parts := name.split(".")) > 1 and parts[1] not in NOT_APPS and (PACKAGE / parts[1]).is_dir()
    }


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


@pytest.mark.parametrize("app", sorted(MAY_IMPORT))
def test_no_domain_app_imports_a_channel(app):
    wrong = {
        f"{path.relative_to(PACKAGE.parent)} imports {sorted(found)}"
        for path in modules(app)
        if (found := imported_apps(path) & CHANNELS)
    }
    assert not wrong, "\n".join(sorted(wrong))


@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_a_channel_imports_no_other_channel(channel):
    wrong = {
        f"{path.relative_to(PACKAGE.parent)} imports {sorted(found)}"
        for path in modules(channel)
        if (found := imported_apps(path) & (CHANNELS - {channel}))
    }
    assert not wrong, "\n".join(sorted(wrong))


def web_area(module: str) -> str | None:
    """The area of the web channel a dotted module belongs to (`moncompte.web.signup.views` → "signup")."""
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "web" and (PACKAGE / "web" / parts[2]).is_dir() else None


def test_web_areas_do_not_import_each_other():
    wrong = set()
    for path in modules("web"):
        relative = path.relative_to(PACKAGE)
        own = relative.parts[1] if len(relative.parts) > 2 else None
        if relative == Path("web/urls.py"):
            continue  # the channel's URL root assembles the areas
        found = {area for name in imported_modules(path) if (area := web_area(name)) and area != own}
        if found:
            wrong.add(f"{relative} imports the areas {sorted(found)}")
    assert not wrong, "\n".join(sorted(wrong))


def test_lib_imports_no_module_of_the_project():
    wrong = {
        f"{path.relative_to(PACKAGE.parent)} imports {sorted(found)}"
        for path in modules(LIB)
        if (found := {name for name in imported_modules(path) if name.split(".")[1:2] != [LIB]})
    }
    assert not wrong, "\n".join(sorted(wrong))


def test_every_package_is_a_domain_app_a_channel_or_lib():
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert packages == set(MAY_IMPORT) | CHANNELS | {LIB}


def test_every_domain_app_and_web_area_is_installed():
    from django.conf import settings

    areas = {f"moncompte.web.{p.parent.name}" for p in (PACKAGE / "web").glob("*/apps.py")}
    expected = {f"moncompte.{app}" for app in MAY_IMPORT} | {"moncompte.web"} | areas
    assert expected <= set(settings.INSTALLED_APPS)


def test_the_rules_read_imports_of_every_shape(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from moncompte import web\nimport moncompte.households.policy\nfrom moncompte.lib import dates")

    assert imported_apps(module) == {"web", "households", "lib"}
    assert web_area("moncompte.web.signup.views") == "signup"
    assert web_area("moncompte.web.forms") is None  # shared by the areas, not an area
