"""The voice server's dialog, in the TwiML dialect: each step says its prompt inside a <Gather> and handles the keys
the caller typed (issue 13). French prompts; `*` repeats a step's prompt, `#` ends a number.

- Silence: the step is asked again once, then the call ends politely. Three unusable answers in a row end it too.
- Every webhook carries the step and the call's current token (models.Call): a replayed or repeated one is answered
  with the current step's prompt and changes nothing.
- What the caller is told about the case goes through the access policy with the identified person, as on the web
  (agency.selectors): the holder and a delegated partner hear the case; a partner without delegation is told why not.
"""

from __future__ import annotations

import datetime
import secrets
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from twilio.twiml.voice_response import Gather, VoiceResponse

from moncompte.agency import selectors as agency
from moncompte.franceconnect import provider as franceconnect
from moncompte.households import policy
from moncompte.households.models import Case
from moncompte.journal import services as journal
from moncompte.phone import identification
from moncompte.phone.models import Call

LANGUAGE = "fr-FR"
#: Unusable answers (or silences) in a row before the call ends.
MAX_MISTAKES = 3
MAX_SILENCES = 2
#: Wrong PINs in one call before it ends (the limits of limits.py hold across calls).
MAX_WRONG_PINS = 3
#: How many payments, letters or requests one answer reads out.
READ_OUT = 3

REPEAT = "*"


def _repeat_line() -> str:
    return _("Pour réécouter, tapez étoile.")


def _site() -> str:
    """The site as said aloud: its host name, from SITE_URL (never from a request)."""
    return urllib.parse.urlsplit(settings.SITE_URL).hostname or settings.SITE_URL


def _day(value: datetime.date) -> str:
    return formats.date_format(value, "j F Y")


def _euros(amount: Decimal) -> str:
    euros, cents = divmod(int((amount * 100).quantize(Decimal(1))), 100)
    if cents:
        return _("%(euros)s euros et %(cents)s centimes") % {"euros": euros, "cents": cents}
    return _("%(euros)s euros") % {"euros": euros}


def _time(value: datetime.datetime) -> str:
    return formats.time_format(timezone.localtime(value), _("H \\h i"))


# --- Responses -------------------------------------------------------------------------------------------------------


def step_url(step: str, token: str, **extra: str) -> str:
    """The absolute address of a step's webhook, from SITE_URL: the provider signs it and we check that signature."""
    query = urllib.parse.urlencode({"t": token, **extra})
    return f"{settings.SITE_URL}{reverse('phone:step', args=[step])}?{query}"


def advance(call: Call, step: str) -> None:
    """The call moves to `step`, with a new token: an answer to an earlier prompt is recognised as such."""
    call.step = step
    _renew_token(call)


def render(call: Call, *, before: tuple[str, ...] = ()) -> VoiceResponse:
    """The call's current step: what is said first (`before`), its prompt in a <Gather>, and where silence goes."""
    lines, number = STEPS[call.step].prompt(call)
    response = VoiceResponse()
    for line in before:
        response.say(line, language=LANGUAGE)
    gather = Gather(
        input="dtmf",
        action=step_url(call.step, call.token),
        method="POST",
        timeout=settings.PHONE_GATHER_TIMEOUT,
        finish_on_key="#",
        action_on_empty_result=False,
        **({} if number else {"num_digits": 1}),
    )
    for line in lines:
        gather.say(line, language=LANGUAGE)
    response.append(gather)
    response.redirect(step_url(call.step, call.token, silence="1"), method="POST")
    return response


def ask(call: Call, step: str, *before: str) -> VoiceResponse:
    advance(call, step)
    return render(call, before=before)


def goodbye(call: Call, *lines: str) -> VoiceResponse:
    call.ended_at = call.ended_at or timezone.now()
    call.step = "ended"
    response = VoiceResponse()
    for line in (*lines, _("Au revoir.")):
        response.say(line, language=LANGUAGE)
    response.hangup()
    return response


def closed_notice() -> VoiceResponse:
    response = VoiceResponse()
    response.say(
        _(
            "Le service de la Caf est momentanément fermé pour maintenance, sur le serveur vocal comme sur le site. "
            "Veuillez rappeler plus tard."
        ),
        language=LANGUAGE,
    )
    response.say(_("Au revoir."), language=LANGUAGE)
    response.hangup()
    return response


# --- Answers the steps share -----------------------------------------------------------------------------------------


def mistake(call: Call, *lines: str) -> VoiceResponse:
    """An unusable answer: the step again, with what was wrong; the call ends after MAX_MISTAKES in a row."""
    call.mistakes += 1
    if call.mistakes >= MAX_MISTAKES:
        return goodbye(
            call, *lines, _("Nous n'avons pas pu comprendre vos réponses. Vous pouvez rappeler à tout moment.")
        )
    return render(call, before=lines or (_("Je n'ai pas compris votre choix."),))


def _renew_token(call: Call) -> None:
    call.token = secrets.token_urlsafe(12)


def _past_sunset(call: Call) -> bool:
    """The sunset came during the call, at a step that rests on the PIN: the call moves to the sunset notice."""
    if call.step in PIN_STEPS and not identification.pin_accepted():
        advance(call, "sunset")
        return True
    return False


def silence(call: Call) -> VoiceResponse:
    _renew_token(call)  # every answer names a new token: a replay of this one finds the call moved on
    if _past_sunset(call):
        return render(call)
    call.silences += 1
    if call.silences >= MAX_SILENCES:
        return goodbye(call, _("Nous n'avons pas reçu de réponse."))
    return render(call, before=(_("Je n'ai pas reçu de réponse."),))


def agent(call: Call) -> VoiceResponse:
    """« Parler à un conseiller »: the call goes to PHONE_AGENT_NUMBER, journaled; without one, the caller is told."""
    if not settings.PHONE_AGENT_NUMBER:
        return goodbye(
            call, _("Aucun conseiller n'est joignable sur cette ligne pour le moment. Veuillez rappeler plus tard.")
        )
    journal.record(
        "phone.transferred",
        person_id=call.person_id,
        case_number=call.case.case_number if call.case_id else "",
    )
    call.ended_at, call.step = timezone.now(), "ended"
    response = VoiceResponse()
    response.say(_("Nous vous mettons en relation avec un conseiller. Merci de patienter."), language=LANGUAGE)
    response.dial(settings.PHONE_AGENT_NUMBER)
    response.say(
        _("Aucun conseiller n'a pu vous répondre. Veuillez rappeler plus tard. Au revoir."), language=LANGUAGE
    )
    response.hangup()
    return response


def _digits(value: str, count: int) -> str | None:
    return value if len(value) == count and value.isascii() and value.isdigit() else None


def _birth_date(value: str) -> datetime.date | None:
    """JJMMAAAA typed on the keypad, as a date of the past; None for anything else."""
    if _digits(value, 8) is None:
        return None
    try:
        day = datetime.date(int(value[4:]), int(value[2:4]), int(value[:2]))
    except ValueError:
        return None
    return day if datetime.date(1900, 1, 1) <= day <= timezone.localdate() else None


def _birth_prompt() -> list[str]:
    return [
        _(
            "Tapez votre date de naissance : 2 chiffres pour le jour, 2 pour le mois et 4 pour l'année, puis la "
            "touche dièse. Par exemple, pour le 5 mars 1980, tapez 0 5 0 3 1 9 8 0."
        ),
        _repeat_line(),
    ]


def _case_number_prompt() -> list[str]:
    return [
        _(
            "Tapez votre numéro allocataire, à 7 chiffres, puis la touche dièse. Il figure sur tous les courriers de "
            "la Caf."
        ),
        _repeat_line(),
    ]


def _cool_off(until: datetime.datetime) -> str:
    return _(
        "Par sécurité, après plusieurs mots de passe incorrects, l'identification par téléphone de ce dossier est "
        "suspendue jusqu'à %(time)s. Vous pourrez réessayer ensuite."
    ) % {"time": _time(until)}


# --- The steps -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    #: What the step says, and whether it waits for a number ended by # (else one key).
    prompt: Callable[[Call], tuple[list[str], bool]]
    #: What one answer does (digits as typed, `*` already handled).
    handle: Callable[[Call, str], VoiceResponse]


def _welcome_prompt(call: Call) -> tuple[list[str], bool]:
    return [
        _("Pour obtenir des renseignements sur votre dossier, tapez 1."),
        _("Si vous avez oublié votre mot de passe du serveur vocal, tapez 2."),
        _("Pour parler à un conseiller, tapez 9."),
        _repeat_line(),
    ], False


def _welcome(call: Call, digits: str) -> VoiceResponse:
    if digits == "1":
        return ask(call, "case_number")
    if digits == "2":
        return ask(call, "renew_case_number")
    if digits == "9":
        return agent(call)
    return mistake(call)


def _sunset_prompt(call: Call) -> tuple[list[str], bool]:
    ways = (
        _("avec votre numéro de sécurité sociale et votre mot de passe personnel, ou avec FranceConnect")
        if franceconnect.enabled()
        else _("avec votre numéro de sécurité sociale et votre mot de passe personnel")
    )
    end = settings.PHONE_PIN_SUNSET + datetime.timedelta(days=1)
    return [
        _(
            "Depuis le %(day)s, le numéro allocataire et le mot de passe à 8 chiffres ne permettent plus de vous "
            "identifier par téléphone."
        )
        % {"day": _day(end)},
        _("Pour consulter votre dossier, connectez-vous sur %(site)s, %(ways)s.") % {"site": _site(), "ways": ways},
        _("Pour parler à un conseiller, tapez 9."),
        _repeat_line(),
    ], False


def _sunset(call: Call, digits: str) -> VoiceResponse:
    return agent(call) if digits == "9" else mistake(call)


def _case_number(call: Call, digits: str) -> VoiceResponse:
    if _digits(digits, identification.CASE_DIGITS) is None:
        return mistake(call, _("Le numéro allocataire compte 7 chiffres."))
    call.typed_case_number = digits
    return ask(call, "pin")


def _pin_prompt(call: Call) -> tuple[list[str], bool]:
    return [
        _("Tapez votre mot de passe du serveur vocal, à 8 chiffres, puis la touche dièse."),
        _repeat_line(),
    ], True


def _pin(call: Call, digits: str) -> VoiceResponse:
    if _digits(digits, identification.PIN_DIGITS) is None:
        return mistake(call, _("Le mot de passe du serveur vocal compte 8 chiffres."))
    checked = identification.pin_check(call.typed_case_number, digits, caller=call.caller)
    if checked.refused_until is not None:
        return goodbye(call, _cool_off(checked.refused_until))
    if not checked.ok:
        call.wrong_pins += 1
        wrong = _("Le numéro allocataire ou le mot de passe est incorrect.")
        if call.wrong_pins >= MAX_WRONG_PINS:
            return goodbye(
                call,
                wrong,
                _(
                    "Si vous avez oublié votre mot de passe, rappelez et tapez 2 : un nouveau mot de passe vous sera "
                    "envoyé par SMS."
                ),
            )
        return ask(call, "case_number", wrong)
    call.case, call.typed_case_number = checked.case, ""
    return ask(call, "birth_date")


def _birth_date_prompt(call: Call) -> tuple[list[str], bool]:
    return [_("Pour savoir qui appelle."), *_birth_prompt()], True


def _birth_date_step(call: Call, digits: str) -> VoiceResponse:
    born = _birth_date(digits)
    if born is None:
        return mistake(call, _("Cette date de naissance n'est pas valide."))
    person = identification.caller_identify(call.case, born)
    if person is None:
        return mistake(
            call, _("Cette date de naissance n'est ni celle de l'allocataire du dossier, ni celle de son conjoint.")
        )
    call.person = person
    if policy.can(person, policy.Capability.DESK_INFO, call.case):
        return ask(call, "menu", _("Merci, %(name)s.") % {"name": person.first_name})
    return ask(call, "limited", _("Merci, %(name)s.") % {"name": person.first_name})


def _menu_prompt(call: Call) -> tuple[list[str], bool]:
    return [
        _("Pour vos derniers paiements, tapez 1."),
        _("Pour les derniers courriers de la Caf, tapez 2."),
        _("Pour les demandes de la Caf qui attendent votre réponse, tapez 3."),
        _("Pour parler à un conseiller, tapez 9."),
        _repeat_line(),
    ], False


def _unavailable() -> list[str]:
    return [_("Ces informations ne sont pas disponibles pour le moment. Veuillez réessayer plus tard.")]


def _payments(person, case: Case) -> list[str]:
    result = agency.payments_for(person, case)
    if not result.ok:
        return _unavailable()
    if not result.data:
        return [_("Aucun paiement n'a été fait sur votre dossier ces 24 derniers mois.")]
    lines = [_("Vos derniers paiements :")]
    for payment in result.data[:READ_OUT]:
        lines.append(
            _("Le %(day)s, %(amount)s, %(benefit)s.")
            % {"day": _day(payment.paid_on), "amount": _euros(payment.amount), "benefit": payment.benefit}
        )
    return lines


def _letters(person, case: Case) -> list[str]:
    result = agency.letters_for(person, case)
    if not result.ok:
        return _unavailable()
    if not result.data:
        return [_("La Caf ne vous a envoyé aucun courrier.")]
    lines = [_("Vos derniers courriers :")]
    for letter in result.data[:READ_OUT]:
        lines.append(_("Le %(day)s : %(subject)s.") % {"day": _day(letter.sent_on), "subject": letter.subject})
    lines.append(_("Vous pouvez les lire dans votre espace sur %(site)s, rubrique Mes courriers.") % {"site": _site()})
    return lines


def _requests(person, case: Case) -> list[str]:
    result = agency.requests_for(person, case)
    if not result.ok:
        return _unavailable()
    waiting = [item for item in result.data if not item.answered]
    if not waiting:
        return [_("Aucune demande de la Caf n'attend votre réponse.")]
    lines = [
        _("Une demande de la Caf attend votre réponse :")
        if len(waiting) == 1
        else _("%(count)s demandes de la Caf attendent votre réponse :") % {"count": len(waiting)}
    ]
    for item in waiting[:READ_OUT]:
        due = item.request.due_on
        lines.append(
            _("%(subject)s, à envoyer avant le %(day)s.") % {"subject": item.request.subject, "day": _day(due)}
            if due
            else _("%(subject)s.") % {"subject": item.request.subject}
        )
    lines.append(_("Vous pouvez y répondre dans votre espace sur %(site)s.") % {"site": _site()})
    return lines


INFORMATION = {"1": _payments, "2": _letters, "3": _requests}


def _menu(call: Call, digits: str) -> VoiceResponse:
    if digits == "9":
        return agent(call)
    if digits not in INFORMATION:
        return mistake(call)
    try:  # through the policy again: a delegation may have been withdrawn during the call
        case = policy.case_get(call.person, call.case.case_number)
    except Case.DoesNotExist:
        case = None
    if case is None or not policy.can(call.person, policy.Capability.DESK_INFO, case):
        return ask(call, "limited")
    call.mistakes = 0
    return render(call, before=tuple(INFORMATION[digits](call.person, case)))


def _limited_prompt(call: Call) -> tuple[list[str], bool]:
    return [
        _("Vous êtes identifié comme conjoint de l'allocataire du dossier."),
        _(
            "Sans délégation de l'allocataire, le serveur vocal ne peut pas vous donner de renseignements sur le "
            "dossier. L'allocataire peut vous accorder la délégation depuis son espace en ligne, rubrique Mon foyer."
        ),
        _("Pour parler à un conseiller de vos propres informations, tapez 9."),
        _repeat_line(),
    ], False


def _limited(call: Call, digits: str) -> VoiceResponse:
    return agent(call) if digits == "9" else mistake(call)


def _renew_case_number_prompt(call: Call) -> tuple[list[str], bool]:
    return [_("Pour recevoir un nouveau mot de passe par SMS."), *_case_number_prompt()], True


def _renew_case_number(call: Call, digits: str) -> VoiceResponse:
    if _digits(digits, identification.CASE_DIGITS) is None:
        return mistake(call, _("Le numéro allocataire compte 7 chiffres."))
    call.typed_case_number = digits
    return ask(call, "renew_birth_date")


def _renew_birth_date(call: Call, digits: str) -> VoiceResponse:
    born = _birth_date(digits)
    if born is None:
        return mistake(call, _("Cette date de naissance n'est pas valide."))
    until = identification.pin_renew(call.typed_case_number, born, caller=call.caller)
    call.typed_case_number = ""
    if until is not None:
        return goodbye(call, _cool_off(until))
    return goodbye(
        call,
        _(
            "Si ces informations sont celles de l'allocataire du dossier, ou de son conjoint s'il a la délégation, un "
            "nouveau mot de passe à 8 chiffres est envoyé par SMS sur le téléphone mobile validé dans son espace en "
            "ligne. Il remplace l'ancien, qui ne fonctionne plus. Il ne peut pas être modifié."
        ),
        _(
            "Si aucun SMS n'arrive, connectez-vous sur %(site)s avec votre numéro de sécurité sociale, ou rappelez et "
            "demandez un conseiller."
        )
        % {"site": _site()},
    )


STEPS: dict[str, Step] = {
    "welcome": Step(_welcome_prompt, _welcome),
    "sunset": Step(_sunset_prompt, _sunset),
    "case_number": Step(lambda call: (_case_number_prompt(), True), _case_number),
    "pin": Step(_pin_prompt, _pin),
    "birth_date": Step(_birth_date_prompt, _birth_date_step),
    "menu": Step(_menu_prompt, _menu),
    "limited": Step(_limited_prompt, _limited),
    "renew_case_number": Step(_renew_case_number_prompt, _renew_case_number),
    "renew_birth_date": Step(lambda call: (_birth_prompt(), True), _renew_birth_date),
}


#: The steps that rest on the case PIN, closed after PHONE_PIN_SUNSET.
PIN_STEPS = frozenset(STEPS) - {"sunset"}


def start(call: Call) -> VoiceResponse:
    """The first answer of a call."""
    welcome = _("Bienvenue sur le serveur vocal de la Caf.")
    if not identification.pin_accepted():
        return ask(call, "sunset", welcome)
    return ask(call, "welcome", welcome)


def answer(call: Call, digits: str) -> VoiceResponse:
    """One answer to the current step (the view checked the token)."""
    _renew_token(call)
    if _past_sunset(call):
        return render(call)
    call.silences = 0
    if REPEAT in digits:
        return render(call)
    if not digits:
        return silence(call)
    before = call.step
    response = STEPS[call.step].handle(call, digits)
    if call.step != before:
        call.mistakes = 0
    return response
