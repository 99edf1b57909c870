"""Password validators for AUTH_PASSWORD_VALIDATORS.

Each validator follows the shape of django.contrib.auth.password_validation: it is built from the OPTIONS of its
AUTH_PASSWORD_VALIDATORS entry, `validate(password, user=None)` raises a ValidationError carrying a French message
and a machine code, and `get_help_text()` returns a French sentence for the form.

The rules follow the CNIL recommendation on passwords (deliberation 2022-100): the strength of a password is its
entropy, length * log2(size of the alphabet), where the alphabet is the union of the character classes the password
uses. The web/static/web/password-rules.js module applies the same rules in the browser, fed with
`password_rules_for_client()`, so that the person sees the same verdict before submitting the form. The rules that
look the password up in a list (common and breached passwords, words tied to the service, the person's own data) run
on the server only.

OWASP ASVS 5.0: the common and breached passwords (6.2.4, 6.2.12, offline: see moncompte.accounts.breached) and the
words tied to the service (6.1.2, 6.2.11: data/context-words.txt) are refused. The composition rule and the maximum
length of 24 characters are the agency's rule, and settings: docs/decisions/009 explains the deviation from 6.2.5 and
6.2.9.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from django.contrib.auth.password_validation import (
    CommonPasswordValidator,
    MinimumLengthValidator,
    get_default_password_validators,
)
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from moncompte.accounts import breached
from moncompte.lib.text import fold, without_accents

__all__ = [
    "CLASS_SIZES",
    "BreachedPasswordValidator",
    "CharacterClassesValidator",
    "CnilEntropyValidator",
    "ContextWordsValidator",
    "FrenchCommonPasswordValidator",
    "LengthValidator",
    "PersonalDataValidator",
    "alphabet_size",
    "character_classes",
    "password_entropy_bits",
    "password_rules_for_client",
    "required_length",
]

# Size of each character class in the CNIL formula. "special" is everything that is not an ASCII letter or digit:
# punctuation, space, and also accented letters (é, ç, …), which the deliberation does not count as letters.
CLASS_SIZES: dict[str, int] = {"lower": 26, "upper": 26, "digit": 10, "special": 33}

# Examples of special characters quoted in the entropy message (all on a French AZERTY keyboard).
SPECIAL_CHARACTER_EXAMPLES = "! ? - _ #"

DEFAULT_FRENCH_PASSWORD_LIST_PATH = Path(__file__).resolve().parent / "data" / "common-passwords-fr.txt"
DEFAULT_CONTEXT_WORDS_PATH = Path(__file__).resolve().parent / "data" / "context-words.txt"


# --- CNIL entropy -------------------------------------------------------------------------------------------------


def _cnil_class(character: str) -> str:
    if "a" <= character <= "z":
        return "lower"
    if "A" <= character <= "Z":
        return "upper"
    if "0" <= character <= "9":
        return "digit"
    return "special"


def character_classes(password: str) -> set[str]:
    """Return the CNIL classes ("lower", "upper", "digit", "special") present in the password."""
    return {_cnil_class(character) for character in password}


def alphabet_size(classes: set[str] | frozenset[str]) -> int:
    """Return the size of the alphabet made of the given CNIL classes."""
    return sum(CLASS_SIZES[name] for name in classes)


def password_entropy_bits(password: str) -> float:
    """Return the entropy of the password in bits, per CNIL deliberation 2022-100.

    entropy = length * log2(alphabet size), the alphabet being the sum of the sizes of the classes present in the
    password (lowercase 26, uppercase 26, digits 10, anything else 33). The length counts Unicode code points.
    """
    if not password:
        return 0.0
    return len(password) * math.log2(alphabet_size(character_classes(password)))


def required_length(size: int, min_bits: float) -> int:
    """Return the smallest length reaching `min_bits` with an alphabet of `size` symbols (size must be >= 2)."""
    if size < 2:
        raise ValueError("An alphabet needs at least two symbols.")
    if min_bits <= 0:
        return 0
    bits_per_character = math.log2(size)
    length = max(1, math.ceil(min_bits / bits_per_character))
    # Guard against floating-point rounding on either side of the boundary.
    while length * bits_per_character < min_bits:
        length += 1
    while length > 1 and (length - 1) * bits_per_character >= min_bits:
        length -= 1
    return length


# --- Validators ---------------------------------------------------------------------------------------------------


class LengthValidator:
    """Refuse passwords shorter than `min_length` or longer than `max_length` characters (None: no maximum)."""

    def __init__(self, min_length: int = 8, max_length: int | None = 24) -> None:
        if min_length < 1:
            raise ImproperlyConfigured("LengthValidator: min_length must be at least 1.")
        if max_length is not None and max_length < min_length:
            raise ImproperlyConfigured("LengthValidator: max_length must not be smaller than min_length.")
        self.min_length = min_length
        self.max_length = max_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) < self.min_length:
            raise ValidationError(
                ngettext(
                    "Le mot de passe doit comporter au moins %(min_length)d caractère.",
                    "Le mot de passe doit comporter au moins %(min_length)d caractères.",
                    self.min_length,
                )
                % {"min_length": self.min_length},
                code="password_too_short",
                params={"min_length": self.min_length},
            )
        if self.max_length is not None and len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "Le mot de passe doit comporter au plus %(max_length)d caractère.",
                    "Le mot de passe doit comporter au plus %(max_length)d caractères.",
                    self.max_length,
                )
                % {"max_length": self.max_length},
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        if self.max_length is None:
            return ngettext(
                "Votre mot de passe doit comporter au moins %(min_length)d caractère.",
                "Votre mot de passe doit comporter au moins %(min_length)d caractères.",
                self.min_length,
            ) % {"min_length": self.min_length}
        return _("Votre mot de passe doit comporter entre %(min_length)d et %(max_length)d caractères.") % {
            "min_length": self.min_length,
            "max_length": self.max_length,
        }


def _has_lowercase(password: str) -> bool:
    return any(character.islower() for character in password)


def _has_uppercase(password: str) -> bool:
    return any(character.isupper() for character in password)


def _has_digit(password: str) -> bool:
    return any("0" <= character <= "9" for character in password)


def _has_special(password: str) -> bool:
    return any(not character.isalnum() for character in password)


class CharacterClassesValidator:
    """Require at least one character of each enabled class; report every missing class at once.

    Letters are judged by their Unicode case, so "é" counts as a lowercase letter and "É" as an uppercase one;
    digits are 0-9. A special character is anything that is neither a letter nor a digit. The browser module mirrors
    this with the \\p{Lowercase} and \\p{Uppercase} Unicode properties.
    """

    def __init__(
        self,
        require_lowercase: bool = True,
        require_uppercase: bool = True,
        require_digit: bool = True,
        require_special: bool = False,
    ) -> None:
        self.require_lowercase = require_lowercase
        self.require_uppercase = require_uppercase
        self.require_digit = require_digit
        self.require_special = require_special

    @property
    def required_classes(self) -> list[str]:
        """The required classes, in the order used by the rules sent to the browser."""
        flags = {
            "lower": self.require_lowercase,
            "upper": self.require_uppercase,
            "digit": self.require_digit,
            "special": self.require_special,
        }
        return [name for name, required in flags.items() if required]

    def validate(self, password: str, user: Any = None) -> None:
        errors = []
        if self.require_lowercase and not _has_lowercase(password):
            errors.append(
                ValidationError(
                    _("Le mot de passe doit contenir au moins une lettre minuscule."),
                    code="password_no_lowercase",
                )
            )
        if self.require_uppercase and not _has_uppercase(password):
            errors.append(
                ValidationError(
                    _("Le mot de passe doit contenir au moins une lettre majuscule."),
                    code="password_no_uppercase",
                )
            )
        if self.require_digit and not _has_digit(password):
            errors.append(
                ValidationError(_("Le mot de passe doit contenir au moins un chiffre."), code="password_no_digit")
            )
        if self.require_special and not _has_special(password):
            errors.append(
                ValidationError(
                    _("Le mot de passe doit contenir au moins un caractère spécial."),
                    code="password_no_special",
                )
            )
        if errors:
            raise ValidationError(errors)

    def get_help_text(self) -> str:
        parts = []
        if self.require_lowercase:
            parts.append(_("une lettre minuscule"))
        if self.require_uppercase:
            parts.append(_("une lettre majuscule"))
        if self.require_digit:
            parts.append(_("un chiffre"))
        if self.require_special:
            parts.append(_("un caractère spécial"))
        if not parts:
            return ""
        if len(parts) == 1:
            listing = parts[0]
        else:
            listing = _("%(items)s et %(last)s") % {"items": ", ".join(parts[:-1]), "last": parts[-1]}
        return _("Votre mot de passe doit contenir au moins %(classes)s.") % {"classes": listing}


class CnilEntropyValidator:
    """Refuse passwords whose CNIL entropy (see password_entropy_bits) is below `min_bits` (default 50)."""

    def __init__(self, min_bits: float = 50) -> None:
        if min_bits < 0:
            raise ImproperlyConfigured("CnilEntropyValidator: min_bits must not be negative.")
        self.min_bits = min_bits

    def validate(self, password: str, user: Any = None) -> None:
        if password_entropy_bits(password) >= self.min_bits:
            return
        classes = character_classes(password)
        # With no character at all, assume lowercase letters for the length advice.
        size = alphabet_size(classes) or CLASS_SIZES["lower"]
        length = max(required_length(size, self.min_bits), len(password) + 1)
        params = {"min_bits": self.min_bits, "length": length, "examples": SPECIAL_CHARACTER_EXAMPLES}
        # Would typing one more character, a special one, be enough?
        special_is_enough = (
            "special" not in classes
            and (len(password) + 1) * math.log2(size + CLASS_SIZES["special"]) >= self.min_bits
        )
        if special_is_enough:
            message = ngettext(
                "Ce mot de passe est trop facile à deviner : ajoutez un caractère spécial (par exemple %(examples)s)"
                " ou allongez-le à %(length)d caractère ou plus.",
                "Ce mot de passe est trop facile à deviner : ajoutez un caractère spécial (par exemple %(examples)s)"
                " ou allongez-le à %(length)d caractères ou plus.",
                length,
            )
        else:
            message = ngettext(
                "Ce mot de passe est trop facile à deviner : allongez-le à %(length)d caractère ou plus.",
                "Ce mot de passe est trop facile à deviner : allongez-le à %(length)d caractères ou plus.",
                length,
            )
        raise ValidationError(message % params, code="password_entropy_too_low", params=params)

    def get_help_text(self) -> str:
        if self.min_bits <= 0:
            return ""
        three_classes = required_length(alphabet_size({"lower", "upper", "digit"}), self.min_bits)
        four_classes = required_length(alphabet_size({"lower", "upper", "digit", "special"}), self.min_bits)
        params = {"three": three_classes, "four": four_classes}
        if three_classes == four_classes:
            return (
                ngettext(
                    "Votre mot de passe doit être difficile à deviner : au moins %(three)d caractère"
                    " mêlant minuscules, majuscules et chiffres.",
                    "Votre mot de passe doit être difficile à deviner : au moins %(three)d caractères"
                    " mêlant minuscules, majuscules et chiffres.",
                    three_classes,
                )
                % params
            )
        return (
            _(
                "Votre mot de passe doit être difficile à deviner : au moins %(three)d caractères mêlant minuscules,"
                " majuscules et chiffres, ou %(four)d caractères s'il contient aussi un caractère spécial."
            )
            % params
        )


# --- Personal data --------------------------------------------------------------------------------------------------


def _name_tokens(name: Any, min_length: int) -> set[str]:
    """Folded forms of a name to look for: the whole name and each of its parts (Jean-Pierre, Le Gall, N'Diaye)."""
    if not isinstance(name, str):
        return set()
    parts = [fold(part) for part in re.split(r"[\W_]+", without_accents(name))]
    tokens = {part for part in parts if len(part) >= min_length}
    whole = "".join(parts)
    if len(whole) >= min_length:
        tokens.add(whole)
    return tokens


def _date_tokens(birth_date: Any) -> set[str]:
    if not all(hasattr(birth_date, attribute) for attribute in ("day", "month", "year")):
        return set()
    try:
        day, month, year = int(birth_date.day), int(birth_date.month), int(birth_date.year)
    except (TypeError, ValueError):
        return set()
    dd, mm, yyyy, yy = f"{day:02d}", f"{month:02d}", f"{year:04d}", f"{year % 100:02d}"
    return {
        f"{dd}{mm}{yyyy}",  # 14071985, 14/07/1985, 14.07.1985
        f"{dd}{mm}{yy}",  # 140785
        f"{yyyy}{mm}{dd}",  # 19850714, 1985-07-14
        f"{day}{month}{yyyy}",  # 1/3/1985 written without leading zeros
    }


def _nir_tokens(nir: Any) -> set[str]:
    if not isinstance(nir, str):
        return set()
    folded = fold(nir)
    if len(folded) < 13:
        return set()
    # The whole number (without its key), and sex + birth year + birth month + department.
    return {folded[:13], folded[:7]}


class PersonalDataValidator:
    """Refuse a password that contains the person's names, birth date or NIR.

    The comparison ignores case, accents and any character that is not a letter or digit, so "Dupont", "DUPONT"
    and "d.u.p.o.n.t" all contain "dupont", and "14/07/1985" contains the 14071985 form of the birth date. Names
    (and parts of compound names) shorter than `min_name_length` letters are not looked for.

    `user` is an Account whose identity is at `user.person` (attributes nir, birth_name, usage_name, given_names,
    birth_date); an object carrying those attributes directly is accepted too. Missing attributes are skipped.
    """

    def __init__(self, min_name_length: int = 3) -> None:
        if min_name_length < 1:
            raise ImproperlyConfigured("PersonalDataValidator: min_name_length must be at least 1.")
        self.min_name_length = min_name_length

    def personal_tokens(self, user: Any) -> set[str]:
        """Return the folded strings the password must not contain."""
        if user is None:
            return set()
        # getattr's default also covers a missing one-to-one relation (RelatedObjectDoesNotExist is an
        # AttributeError).
        person = getattr(user, "person", None) or user
        tokens: set[str] = set()
        for attribute in ("birth_name", "usage_name"):
            tokens |= _name_tokens(getattr(person, attribute, None), self.min_name_length)
        given_names = getattr(person, "given_names", None)
        if isinstance(given_names, str):
            for given_name in given_names.split():
                tokens |= _name_tokens(given_name, self.min_name_length)
        tokens |= _date_tokens(getattr(person, "birth_date", None))
        tokens |= _nir_tokens(getattr(person, "nir", None))
        return tokens

    def validate(self, password: str, user: Any = None) -> None:
        folded_password = fold(password)
        if any(token in folded_password for token in self.personal_tokens(user)):
            raise ValidationError(
                _(
                    "Le mot de passe ne doit pas contenir votre nom, votre prénom, votre date de naissance"
                    " ni votre numéro de Sécurité sociale."
                ),
                code="password_contains_personal_data",
            )

    def get_help_text(self) -> str:
        return _(
            "Votre mot de passe ne doit pas contenir votre nom, votre prénom, votre date de naissance"
            " ni votre numéro de Sécurité sociale."
        )


# --- Common passwords -----------------------------------------------------------------------------------------------

# Characters stripped from both ends of a password before looking its core word up in the French list, so that
# "Azerty123!", "soleil2024" or "#doudou#" are refused like "azerty", "soleil" and "doudou".
_DECORATION = re.compile(r"^[\W\d_]+|[\W\d_]+$")
# A core word shorter than this is not looked up, to keep "om" or "aa" from refusing every password around them.
_MIN_CORE_LENGTH = 3


def _normalise_common(text: str) -> str:
    """Lowercase and remove accents, keeping every other character."""
    return without_accents(text.strip())


class FrenchCommonPasswordValidator(CommonPasswordValidator):
    """Django's common-password check, plus a list of passwords common in France.

    OPTIONS: `password_list_path` (Django's list, as for CommonPasswordValidator), `french_password_list_path`
    (one password per line, lowercase; lines starting with "#" are comments) and `check_variants`: when true
    (default), a password whose core word, once digits and symbols are stripped from both ends, is on the French
    list is refused too ("Azerty2024!").
    """

    def __init__(
        self,
        password_list_path: Any = CommonPasswordValidator.DEFAULT_PASSWORD_LIST_PATH,
        french_password_list_path: str | Path = DEFAULT_FRENCH_PASSWORD_LIST_PATH,
        check_variants: bool = True,
    ) -> None:
        super().__init__(password_list_path)
        with open(french_password_list_path, encoding="utf-8") as handle:
            entries = (line.strip() for line in handle)
            self.french_passwords = {
                _normalise_common(entry) for entry in entries if entry and not entry.startswith("#")
            }
        self.check_variants = check_variants

    def is_common(self, password: str) -> bool:
        if password.lower().strip() in self.passwords:
            return True
        normalised = _normalise_common(password)
        if normalised in self.passwords or normalised in self.french_passwords:
            return True
        if self.check_variants:
            core = _DECORATION.sub("", normalised)
            if len(core) >= _MIN_CORE_LENGTH and core in self.french_passwords:
                return True
        return False

    def validate(self, password: str, user: Any = None) -> None:
        if self.is_common(password):
            raise ValidationError(self.get_error_message(), code="password_too_common")

    def get_error_message(self) -> str:
        return _("Ce mot de passe est trop courant.")

    def get_help_text(self) -> str:
        return _("Votre mot de passe ne doit pas être un mot de passe courant.")


# --- Breached passwords ---------------------------------------------------------------------------------------------

# Common substitutions of letters ("leetspeak"), read back to the letter. "1" and "!" may stand for i or for l: the
# breached rule tries both readings; the context-word rule folds i, l, 1, ! and | to one letter on both sides.
_LEET = {"4": "a", "@": "a", "0": "o", "3": "e", "€": "e", "5": "s", "$": "s", "7": "t"}
_LEET_AS_I = str.maketrans({**_LEET, "1": "i", "!": "i"})
_LEET_AS_L = str.maketrans({**_LEET, "1": "l", "!": "l"})


class BreachedPasswordValidator:
    """Refuse a password found in public breaches, checked offline against the set of moncompte.accounts.breached.

    The password is looked up casefolded, with and without its accents. With `check_variants` (default), so are its
    core word (digits and symbols stripped from both ends, as for the French list: "Chocolat2024!") and the readings
    of both with the common substitutions of letters undone ("P@ssw0rd!" reads "password"), each when it keeps at
    least `min_core_length` characters (default 4). OPTIONS `extra_lists`: lists of the deployer's own (setting
    PASSWORD_BREACHED_EXTRA_LISTS); `folder`: where the compact set is kept (default VAR_DIR/breached-passwords/).
    The set is read on the first check, not when the validator is built.
    """

    def __init__(
        self,
        extra_lists: list[str | Path] | tuple[str | Path, ...] = (),
        folder: str | Path | None = None,
        check_variants: bool = True,
        min_core_length: int = 4,
    ) -> None:
        if min_core_length < 1:
            raise ImproperlyConfigured("BreachedPasswordValidator: min_core_length must be at least 1.")
        self.extra_lists = tuple(Path(path) for path in extra_lists)
        self.folder = Path(folder) if folder is not None else None
        self.check_variants = check_variants
        self.min_core_length = min_core_length
        self._breached_set: breached.BreachedSet | None = None

    def breached_set(self) -> breached.BreachedSet:
        """The set, read (or built) on the first call; Django keeps one validator a process."""
        if self._breached_set is None:
            self._breached_set = breached.load(self.folder, self.extra_lists)
        return self._breached_set

    def variants(self, password: str) -> set[str]:
        """The forms looked up besides the password itself: its core word and their readings without leetspeak."""
        unaccented = _normalise_common(password)
        found = set()
        for form in (unaccented, _DECORATION.sub("", unaccented)):
            for reading in (form, form.translate(_LEET_AS_I), form.translate(_LEET_AS_L)):
                found |= {reading, _DECORATION.sub("", reading)}
        return {form for form in found if len(form) >= self.min_core_length}

    def validate(self, password: str, user: Any = None) -> None:
        breached_set = self.breached_set()
        exact = {breached.normalise(password), _normalise_common(password)}
        if any(form in breached_set for form in exact):
            raise ValidationError(
                _(
                    "Ce mot de passe figure parmi les plus répandus dans les fuites de données : choisissez-en un"
                    " autre."
                ),
                code="password_breached",
            )
        if self.check_variants and any(form in breached_set for form in self.variants(password) - exact):
            raise ValidationError(
                _(
                    "Ce mot de passe est construit sur l'un des mots de passe les plus répandus dans les fuites de"
                    " données : choisissez-en un autre."
                ),
                code="password_breached",
            )

    def get_help_text(self) -> str:
        return _("Votre mot de passe ne doit pas figurer parmi les mots de passe révélés par des fuites de données.")


# --- Words tied to the service --------------------------------------------------------------------------------------

_CONTEXT_FOLD = str.maketrans({**_LEET, "1": "i", "!": "i", "|": "i", "l": "i"})
_MIN_CONTEXT_WORD_LENGTH = 3


def _fold_context(text: str) -> str:
    """Casefold, remove accents, undo leetspeak (i, l, 1, ! and | become one letter), keep only letters and digits."""
    return "".join(character for character in without_accents(text).translate(_CONTEXT_FOLD) if character.isalnum())


class ContextWordsValidator:
    """Refuse a password that contains a word tied to the service ("caf", "moncompte", "allocation"…), anywhere.

    OPTIONS: `words_path`, the documented list (default data/context-words.txt: one word per line, "#" starts a
    comment), and `extra_words`, words added in settings. Both sides are folded by `_fold_context`, so case, accents,
    spaces, symbols and common substitutions do not hide a word ("C@f-2024", "Mon Compte", "4ll0c4t10n"). The message
    names the longest word found, as the list writes it.
    """

    def __init__(
        self,
        words_path: str | Path = DEFAULT_CONTEXT_WORDS_PATH,
        extra_words: list[str] | tuple[str, ...] = (),
    ) -> None:
        with open(words_path, encoding="utf-8") as handle:
            entries = [line.strip() for line in handle]
        words = [entry for entry in entries if entry and not entry.startswith("#")] + [
            word.strip() for word in extra_words if word.strip()
        ]
        self.words: dict[str, str] = {}  # folded form -> the word as written
        for word in words:
            folded = _fold_context(word)
            if len(folded) < _MIN_CONTEXT_WORD_LENGTH:
                raise ImproperlyConfigured(
                    f"ContextWordsValidator: {word!r} is shorter than {_MIN_CONTEXT_WORD_LENGTH} letters once folded."
                )
            self.words.setdefault(folded, word)

    def found_word(self, password: str) -> str | None:
        """The longest listed word the password contains, as the list writes it, or None."""
        folded_password = _fold_context(password)
        found = [folded for folded in self.words if folded in folded_password]
        return self.words[max(found, key=len)] if found else None

    def validate(self, password: str, user: Any = None) -> None:
        word = self.found_word(password)
        if word is not None:
            raise ValidationError(
                _(
                    "Votre mot de passe contient « %(word)s », un mot lié au service : choisissez un mot de passe"
                    " sans ce mot."
                )
                % {"word": word},
                code="password_contains_context_word",
                params={"word": word},
            )

    def get_help_text(self) -> str:
        examples = list(self.words.values())[:2]
        if len(examples) < 2:
            return _("Votre mot de passe ne doit pas contenir de mot lié au service.")
        return _(
            "Votre mot de passe ne doit pas contenir de mot lié au service, comme « %(first)s » ou « %(second)s »."
        ) % {"first": examples[0], "second": examples[1]}


# --- Rules for the browser ------------------------------------------------------------------------------------------


def password_rules_for_client(validators: list[Any] | None = None) -> dict[str, Any]:
    """Return the password rules, as a JSON-serialisable dict, for web/static/web/password-rules.js.

    The rules are read from the configured validators (settings.AUTH_PASSWORD_VALIDATORS by default), so the
    browser mirrors the server. A rule that no validator enforces is None (or an empty list of classes). Keys:
    min_length, max_length, required_classes (subset of ["lower", "upper", "digit", "special"]), min_bits and
    class_sizes (the CNIL alphabet sizes).
    """
    if validators is None:
        validators = get_default_password_validators()
    min_length: int | None = None
    max_length: int | None = None
    min_bits: float | None = None
    required_classes: list[str] = []
    for validator in validators:
        if isinstance(validator, LengthValidator | MinimumLengthValidator):
            min_length = validator.min_length if min_length is None else max(min_length, validator.min_length)
        if isinstance(validator, LengthValidator) and validator.max_length is not None:
            max_length = validator.max_length if max_length is None else min(max_length, validator.max_length)
        if isinstance(validator, CharacterClassesValidator):
            required_classes += [name for name in validator.required_classes if name not in required_classes]
        if isinstance(validator, CnilEntropyValidator):
            min_bits = validator.min_bits if min_bits is None else max(min_bits, validator.min_bits)
    order = list(CLASS_SIZES)
    return {
        "min_length": min_length,
        "max_length": max_length,
        "required_classes": sorted(required_classes, key=order.index),
        "min_bits": min_bits,
        "class_sizes": dict(CLASS_SIZES),
    }
