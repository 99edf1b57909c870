"""An offline set of breached passwords, for validators.BreachedPasswordValidator (OWASP ASVS 5.0 6.2.12).

Nothing is fetched at run time and no password list is committed here. The passwords come from packages installed
with the project:

- the "passwords" frequency list of the Python package `zxcvbn` (MIT licence, pinned in requirements.txt): the
  30,000 most frequent passwords of the ten million that Mark Burnett collected from public breach dumps and
  published in 2015, lowercased by zxcvbn, which also left out the tokens it files under its name and English-word
  lists ("michael" is absent here, but Django's 20,000, derived from Have I Been Pwned and checked by
  FrenchCommonPasswordValidator, have it);
- optionally, lists of the deployer's own (setting PASSWORD_BREACHED_EXTRA_LISTS): one password per line, UTF-8,
  gzipped or not, every non-empty line being a password (no comments: "#1mom" is a password).

Structure: each password is normalised (`normalise`: stripped, casefolded) and hashed to 64 bits (BLAKE2b); the sorted,
deduplicated hashes are written as little-endian unsigned 64-bit integers to
`VAR_DIR/breached-passwords/breached-<stamp>.bin`: 8 bytes a password, 240,000 bytes for zxcvbn's list. A process
reads the file once into an `array("Q")` (the same size in memory) and answers by binary search, a few microseconds a
lookup. With 64-bit hashes a password outside the set is taken for a breached one with a probability of about
n / 2**64 (1.6e-15 for 30,000 passwords).

The file is built on first use (about 0.1 s) or by `manage.py build_breached_passwords`, which also prints these
figures. Its name carries a stamp of its sources (format version, zxcvbn's version, the path, size and modification
time of each extra list), so that upgrading zxcvbn or changing an extra list builds a new file on next use, and older
files are removed. Where VAR_DIR cannot be written, the set is built in memory and a warning is logged.
"""

from __future__ import annotations

import ast
import bisect
import contextlib
import gzip
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import sys
import threading
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

__all__ = ["BreachedSet", "build", "default_folder", "digest", "load", "normalise"]

FORMAT_VERSION = 1
SOURCE_PACKAGE = "zxcvbn"
# BLAKE2b's personalisation: a hash of this format, not reusable as anything else.
_PERSON = b"moncompte-bpw-1"

_lock = threading.Lock()
_loaded: dict[Path, BreachedSet] = {}


def normalise(password: str) -> str:
    """The form in which passwords are hashed, on both sides: stripped and casefolded (the lists are lowercase)."""
    return password.strip().casefold()


def digest(normalised: str) -> int:
    """The 64-bit hash of a normalised password."""
    raw = hashlib.blake2b(normalised.encode("utf-8"), digest_size=8, person=_PERSON).digest()
    return int.from_bytes(raw, "little")


@dataclass(frozen=True)
class BreachedSet:
    """A sorted array of 64-bit password hashes; `normalised in breached_set` is a binary search."""

    hashes: Sequence[int]
    path: Path | None = None

    def __contains__(self, normalised: object) -> bool:
        if not isinstance(normalised, str):
            return False
        value = digest(normalised)
        index = bisect.bisect_left(self.hashes, value)
        return index < len(self.hashes) and self.hashes[index] == value

    def __len__(self) -> int:
        return len(self.hashes)


def _package_passwords() -> list[str]:
    """zxcvbn's "passwords" list, read from the source of zxcvbn/frequency_lists.py.

    Importing zxcvbn would build all its dictionaries and keep them (about 15 MB) in every process that builds the
    set; parsing the module's source only holds that memory while the set is built."""
    spec = importlib.util.find_spec(SOURCE_PACKAGE)  # a top-level package: found, not imported
    if spec is None or not spec.submodule_search_locations:
        raise ImproperlyConfigured(
            f"The breached-password check needs the {SOURCE_PACKAGE} package: pip install -r requirements.txt."
        )
    source = Path(next(iter(spec.submodule_search_locations))) / "frequency_lists.py"
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict):
            continue
        for key, value in zip(node.keys, node.values, strict=True):
            if not (isinstance(key, ast.Constant) and key.value == "passwords"):
                continue
            # "123456,password,…".split(",") in zxcvbn 4.5; a plain list literal is accepted too.
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
                value = value.func.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                return value.value.split(",")
            if isinstance(value, ast.List | ast.Tuple):
                return [item.value for item in value.elts if isinstance(item, ast.Constant)]
    raise ImproperlyConfigured(f"No passwords list found in {source}: see moncompte/accounts/breached.py.")


def _extra_passwords(path: Path) -> Iterator[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            yield line.rstrip("\r\n")


def _stamp(extra_lists: Sequence[Path]) -> str:
    try:
        version = importlib.metadata.version(SOURCE_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        version = None
    parts: list[object] = [FORMAT_VERSION, SOURCE_PACKAGE, version]
    for path in extra_lists:
        try:
            stat = path.stat()
        except OSError as error:
            raise ImproperlyConfigured(f"PASSWORD_BREACHED_EXTRA_LISTS: cannot read {path}: {error}") from error
        parts.append((str(path.resolve()), stat.st_size, stat.st_mtime_ns))
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def _hashes(passwords: Iterable[str]) -> array:
    values = sorted({digest(normalised) for normalised in map(normalise, passwords) if normalised})
    return array("Q", values)


def default_folder() -> Path:
    return Path(settings.VAR_DIR) / "breached-passwords"


def build(folder: Path | None = None, extra_lists: Sequence[str | Path] = ()) -> BreachedSet:
    """Build the set from its sources and write it to `folder` (default VAR_DIR/breached-passwords/), replacing the
    files of other stamps. Returns the set; its `path` is None when the folder cannot be written."""
    folder = Path(folder) if folder is not None else default_folder()
    paths = [Path(path) for path in extra_lists]
    stamp = _stamp(paths)
    passwords: list[str] = _package_passwords()
    for path in paths:
        passwords.extend(_extra_passwords(path))
    hashes = _hashes(passwords)
    target = folder / f"breached-{stamp}.bin"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        stored = array("Q", hashes)
        if sys.byteorder != "little":
            stored.byteswap()
        temporary.write_bytes(stored.tobytes())
        os.replace(temporary, target)  # atomic: a process building at the same time writes the same bytes
    except OSError as error:
        logger.warning("breached_passwords.not_written", extra={"folder": str(folder), "error": str(error)})
        return BreachedSet(hashes)
    for old in folder.glob("breached-*.bin"):
        if old != target:
            with contextlib.suppress(OSError):
                old.unlink()
    logger.info("breached_passwords.built", extra={"path": str(target), "passwords": len(hashes)})
    return BreachedSet(hashes, target)


def _read(path: Path) -> BreachedSet:
    hashes = array("Q")
    hashes.frombytes(path.read_bytes())
    if sys.byteorder != "little":
        hashes.byteswap()
    return BreachedSet(hashes, path)


def load(folder: Path | None = None, extra_lists: Sequence[str | Path] = ()) -> BreachedSet:
    """The breached set of these sources, read once per process (built first if its file is missing)."""
    folder = Path(folder) if folder is not None else default_folder()
    paths = [Path(path) for path in extra_lists]
    target = folder / f"breached-{_stamp(paths)}.bin"
    if target in _loaded:
        return _loaded[target]
    with _lock:
        if target not in _loaded:
            try:
                _loaded[target] = _read(target)
            except (OSError, ValueError):  # missing, or cut short by a crash before os.replace
                _loaded[target] = build(folder, paths)
        return _loaded[target]
