"""New applicants (« primo demandeurs », issue 11 item 4): someone the agency does not know yet opens an account to
make a first request. The civil status typed with a NIR is checked against the national identity registry; a
contact is proven by a code; the person chooses a password; then the request begins (procedures, with no case).

Someone with no NIR yet gives their civil status only and gets a provisional identifier of ours (identity.provisional),
shown once, sent to the contact they proved and printed on their receipts; they sign in with it until the agency
links their NIR. The agency checks the identity of both when it studies the request (« une vérification d'identité
sera effectuée »).

What the pages may tell: the registry answers « matches » or « does not match » only, the same for an unknown NIR as
for a wrong name, and the pages answer in the same time either way. A mismatch is explained by what the visitor typed
alone (the NIR says a birth year and month, a sex and a birthplace: `nir_hints`), never by what the registry holds.
A NIR the agency already knows opens no second account: once the contact is proven, the visitor is told to sign in or
to use « Créer mon compte », and the known person is told on their own validated contacts."""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from moncompte.accounts import services as accounts
from moncompte.accounts.models import Account
from moncompte.identity.models import FRANCE, Person
from moncompte.identity.nir import parse_nir
from moncompte.identity.provisional import free_provisional_ids, provisional_grouped
from moncompte.journal import context as journal_context
from moncompte.journal import services as journal
from moncompte.messaging.services import message_queue, person_notify
from moncompte.partners import connectors
from moncompte.partners.connectors import PartnerUnavailable

NOTICE_WELCOME = "signup/notices/applicant_welcome"
NOTICE_KNOWN = "signup/notices/applicant_known"
NOTICE_KNOWN_TOLD = "signup/notices/applicant_known_told"


@dataclass(frozen=True)
class ApplicantIdentity:
    """What the visitor typed. `nir`: 13 characters without the key, or "" for someone who has none yet."""

    nir: str
    birth_name: str
    usage_name: str
    given_names: str
    birth_date: datetime.date
    sex: str
    birthplace: str  # INSEE commune code, "" when born abroad
    birth_country: str  # INSEE country code, 99100 for France

    def as_state(self) -> dict:
        return {**asdict(self), "birth_date": self.birth_date.isoformat()}

    @classmethod
    def from_state(cls, state: dict) -> ApplicantIdentity:
        return cls(**{**state, "birth_date": datetime.date.fromisoformat(state["birth_date"])})


class IdentityNotConfirmed(Exception):
    """The registry does not confirm the civil status: `hints` say what to check, from what was typed only."""

    def __init__(self, hints: list[str]):
        super().__init__("identity not confirmed")
        self.hints = hints


class RegistryUnavailable(Exception):
    """The registry did not answer: nothing can be said, the visitor tries again later."""


def nir_hints(identity: ApplicantIdentity) -> list[str]:
    """What the NIR itself says that the other answers contradict (the visitor's own typing, nothing else)."""
    nir = parse_nir(identity.nir)
    hints = []
    male = nir.sex in ("1", "3", "7")
    if (identity.sex == "M") != male:
        hints.append(
            _("Votre numéro de Sécurité sociale ne correspond pas au sexe indiqué : vérifiez l'un et l'autre.")
        )
    if nir.year != f"{identity.birth_date.year % 100:02d}" or (
        nir.month.isdigit() and 1 <= int(nir.month) <= 12 and int(nir.month) != identity.birth_date.month
    ):
        hints.append(
            _(
                "Votre numéro de Sécurité sociale indique une année ou un mois de naissance différents de la date "
                "indiquée : vérifiez votre date de naissance et votre numéro."
            )
        )
    born_abroad = identity.birth_country != FRANCE
    if nir.is_born_abroad != born_abroad and not nir.is_waiting_number:
        if nir.is_born_abroad:
            hints.append(_("Votre numéro indique une naissance à l'étranger : vérifiez votre lieu de naissance."))
        else:
            hints.append(_("Votre numéro indique une naissance en France : vérifiez votre lieu de naissance."))
    return hints


def _general_hint() -> str:
    return _(
        "Vérifiez que votre numéro de Sécurité sociale, votre nom de naissance, tous vos prénoms dans l'ordre, votre "
        "date et votre lieu de naissance sont écrits exactement comme sur votre carte Vitale ou votre pièce "
        "d'identité."
    )


def identity_check(identity: ApplicantIdentity) -> None:
    """Raises IdentityNotConfirmed (with what to check) or RegistryUnavailable; returns when the registry confirms.
    Someone with no NIR is not checked here (the agency does it with their documents)."""
    if not identity.nir:
        return
    hints = nir_hints(identity)
    try:
        answer = connectors.registry_check(
            nir=identity.nir,
            birth_name=identity.birth_name,
            given_names=identity.given_names,
            birth_date=identity.birth_date,
            sex=identity.sex,
            birthplace=identity.birthplace,
            birth_country=identity.birth_country,
        )
    except PartnerUnavailable:
        raise RegistryUnavailable from None
    if not answer.data:
        raise IdentityNotConfirmed([*hints, _general_hint()])


def _clean(text: str) -> str:
    return " ".join(text.split())


def known_person(identity: ApplicantIdentity) -> Person | None:
    return Person.objects.filter(nir=identity.nir).first() if identity.nir else None


@transaction.atomic
def applicant_open(*, identity: ApplicantIdentity, medium: str, destination: str, password: str) -> Account | None:
    """Open the person and their account, the contact proven, the password set, the onboarding skipped (they came to
    make a request). None when the NIR belongs to someone the agency knows: no second account; the visitor is told
    on the contact they proved, the known person on theirs."""
    known = known_person(identity)
    if known is not None:
        message_queue(medium=medium, to=destination, template=NOTICE_KNOWN, context={})
        person_notify(
            person_id=known.pk, template=NOTICE_KNOWN_TOLD, context={"person": known, "when": timezone.localtime()}
        )
        journal.record("applicant.known_identity", person_id=known.pk, after={"medium": medium})
        return None
    person = Person.objects.create(
        nir=identity.nir or None,
        provisional_id=None if identity.nir else free_provisional_ids(1)[0],
        birth_name=_clean(identity.birth_name).upper(),
        usage_name=_clean(identity.usage_name).upper(),
        given_names=_clean(identity.given_names).title(),
        birth_date=identity.birth_date,
        sex=identity.sex,
        birthplace=identity.birthplace,
        birth_country=identity.birth_country,
    )
    account = accounts.account_open(person=person, via="applicant")
    with journal_context.acting(actor_account_id=journal_context.current().actor_account_id or account.pk):
        accounts.password_set(account=account, password=password, reason="applicant")
        accounts.contact_validated(account=account, medium=medium, value=destination)
        accounts.onboarding_complete(account=account)
        journal.record(
            "applicant.registered",
            person_id=person.pk,
            after={"with_nir": bool(identity.nir), "registry_checked": bool(identity.nir)},
        )
        person_notify(
            person_id=person.pk,
            template=NOTICE_WELCOME,
            context={
                "person": person,
                "provisional_id": provisional_grouped(person.provisional_id) if person.provisional_id else "",
            },
        )
    return account
