"""What the Caf has in a case: « Mes paiements », « Mes courriers » (and each letter's PDF), « Demandes de la Caf »
and the answer to one of them.

The case is read through the access policy with the signed-in person (another household's case is a 404); what is
shown comes from `agency.selectors`, which ask the policy again and then the Caf's case system. A person the policy
limits sees the limited-access notice (200) on a page to read, and a refusal page (403) for an action (answering,
downloading a letter). When the case system does not answer, the page says so (200), never a server error."""

from __future__ import annotations

import calendar
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from moncompte.agency import selectors, services
from moncompte.agency.selectors import Result
from moncompte.households import policy
from moncompte.households.models import Case, Role
from moncompte.households.policy import Capability
from moncompte.web.case.forms import AnswerForm
from moncompte.web.helpers import form_status, posted

#: What a request expects, as the pages say it.
EXPECTS = {
    "document": gettext_lazy("Un document"),
    "text": gettext_lazy("Une réponse écrite"),
    "both": gettext_lazy("Une réponse écrite et un document"),
}


def _case_or_404(request: HttpRequest, case_number: str) -> Case:
    try:
        return policy.case_get(request.user, case_number)
    except Case.DoesNotExist:
        raise Http404(_("Ce dossier n'existe pas ou ne vous concerne pas.")) from None


def _source(result: Result) -> str:
    """« Données transmises par la Caf le 2 décembre 2026 à 10:15. »"""
    if not result.ok or result.fetched_at is None:
        return ""
    when = formats.date_format(timezone.localtime(result.fetched_at), "j F Y à H:i")
    return _("Données transmises par %(source)s le %(date)s.") % {"source": result.source, "date": when}


def _page(
    request: HttpRequest, template: str, case: Case, result: Result, status: int = 200, **context
) -> HttpResponse:
    context = {"case": case, "result": result, "source": _source(result), **context}
    return render(request, template, context, status=status)


def _refused(request: HttpRequest, case: Case, *, title: str, reason: str) -> HttpResponse:
    """An action the person's role does not allow (403): what they cannot do, why, and whom to ask."""
    context = {"case": case, "title": title, "reason": reason, "limits": policy.limits(request.user, case)}
    return render(request, "case/refused.html", context, status=403)


def _not_found(request: HttpRequest, case: Case, *, title: str, message: str, back: str) -> HttpResponse:
    context = {"case": case, "title": title, "message": message, "back": back}
    return render(request, "case/not_found.html", context, status=404)


# --- Mes paiements ---------------------------------------------------------------------------------------------------


def _period(start: date, end: date) -> str:
    """« octobre 2026 » for a whole month, else « du 3 octobre 2026 au 31 octobre 2026 »."""
    last_day = calendar.monthrange(start.year, start.month)[1]
    if start.day == 1 and (end.year, end.month, end.day) == (start.year, start.month, last_day):
        return formats.date_format(start, "F Y")
    return _("du %(start)s au %(end)s") % {
        "start": formats.date_format(start, "j F Y"),
        "end": formats.date_format(end, "j F Y"),
    }


@login_required
@require_safe
def payments_view(request: HttpRequest, case_number: str) -> HttpResponse:
    case = _case_or_404(request, case_number)
    result = selectors.payments_for(request.user, case)
    rows = []
    if result.ok:
        rows = [
            {"payment": payment, "period": _period(payment.period_start, payment.period_end)}
            for payment in result.data
        ]
    return _page(request, "case/payments.html", case, result, rows=rows, since=selectors.payments_since())


# --- Mes courriers ---------------------------------------------------------------------------------------------------


@login_required
@require_safe
def letters_view(request: HttpRequest, case_number: str) -> HttpResponse:
    case = _case_or_404(request, case_number)
    return _page(request, "case/letters.html", case, selectors.letters_for(request.user, case))


@login_required
@require_safe
def letter_pdf_view(request: HttpRequest, case_number: str, letter_id: str) -> HttpResponse:
    case = _case_or_404(request, case_number)
    result = selectors.letter_pdf_for(request.user, case, letter_id)
    if result.not_allowed:
        return _refused(
            request,
            case,
            title=_("Vous ne pouvez pas ouvrir ce courrier"),
            reason=_(
                "Les courriers du dossier sont réservés à l'allocataire et à son conjoint, s'il a la délégation."
            ),
        )
    if result.not_found:
        return _not_found(
            request,
            case,
            title=_("Courrier introuvable"),
            message=_("Ce courrier n'existe pas ou ne concerne pas ce dossier."),
            back="case:letters",
        )
    if result.unavailable:
        return _page(request, "case/letter_unavailable.html", case, result)
    response = HttpResponse(result.data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="courrier-{letter_id}.pdf"'  # [A-Za-z0-9-] only
    return response


# --- Demandes de la Caf ----------------------------------------------------------------------------------------------


@login_required
@require_safe
def requests_view(request: HttpRequest, case_number: str) -> HttpResponse:
    case = _case_or_404(request, case_number)
    result = selectors.requests_for(request.user, case)
    rows = [{"item": item, "expects": EXPECTS[item.request.expects]} for item in result.data] if result.ok else []
    return _page(request, "case/requests.html", case, result, rows=rows)


@login_required
@require_http_methods(["GET", "POST"])
def answer_view(request: HttpRequest, case_number: str, request_id: str) -> HttpResponse:
    case = _case_or_404(request, case_number)
    if not policy.can(request.user, Capability.ANSWER_AGENCY, case):
        return _refused(
            request,
            case,
            title=_("Vous ne pouvez pas répondre à cette demande"),
            reason=_(
                "Seuls l'allocataire et son conjoint, s'il a la délégation, peuvent répondre aux demandes de la Caf. "
                "Rien n'a été envoyé."
            ),
        )
    result = selectors.request_for(request.user, case, request_id)
    if result.not_found:
        return _not_found(
            request,
            case,
            title=_("Demande introuvable"),
            message=_(
                "Cette demande n'existe pas, ne concerne pas ce dossier, ou la Caf l'a déjà traitée. Rien n'a été "
                "envoyé."
            ),
            back="case:requests",
        )
    if result.unavailable:
        if request.method == "POST":
            messages.error(request, _("Votre réponse n'a pas pu être envoyée : rien n'a été enregistré."))
        return _page(request, "case/answer.html", case, result)
    item = result.data
    expects = EXPECTS[item.request.expects]
    if item.answered:  # not offered again: a second answer would change nothing
        status = 200
        if request.method == "POST":
            messages.error(request, services.already_answered(item.answer))
            status = 400
        return _page(request, "case/answer.html", case, result, status=status, item=item, expects=expects)
    form = AnswerForm(posted(request), request.FILES or None, expects=item.request.expects)
    if request.method == "POST" and form.is_valid():
        try:
            services.answer_send(
                case=case,
                request=item.request,
                author=request.user.person,
                text=form.cleaned_data["text"],
                uploads=form.cleaned_data["documents"],
            )
        except services.AnswerRefused as refused:
            form.add_error(refused.field, refused.message)
        else:
            told = (
                _("Un message vous le confirme.")
                if policy.standing(request.user, case).role == Role.HOLDER
                else _("Un message vous le confirme, ainsi qu'à l'allocataire.")
            )
            messages.success(
                request,
                _("Votre réponse à la demande « %(subject)s » est envoyée à la Caf.")
                % {"subject": item.request.subject}
                + " "
                + told,
            )
            return redirect("case:requests", case_number=case.case_number)
    context = {
        "item": item,
        "form": form,
        "expects": expects,
    }
    return _page(request, "case/answer.html", case, result, status=form_status(form), **context)
