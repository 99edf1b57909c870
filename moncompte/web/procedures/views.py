"""« Mes démarches ». Drafts and receipts are read through procedures.selectors with the signed-in person (another
person's draft is a 404); every change goes through procedures.services. A step reached by URL before the earlier
ones are done sends the person back to the first step left to do."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from moncompte.households import policy
from moncompte.households.models import Case, Role
from moncompte.procedures import registry, selectors, services
from moncompte.procedures.documents import ACCEPTED, DocumentRefused
from moncompte.procedures.models import Draft, Submission
from moncompte.procedures.receipts import receipt_context, receipt_pdf
from moncompte.procedures.registry import Prefill, ProcedureKind, Step
from moncompte.procedures.steps import display_sent, missing_documents, raw_from, rows, same_value, unbound


def _draft_or_404(request: HttpRequest, token: str) -> Draft:
    """The draft, if the person may see it; raises services.DraftGone when it is past its expiry (the housekeeping
    has not removed it yet): the views say so and go back to the list, as they do for a POST."""
    try:
        draft = selectors.draft_get(request.user.person, token)
    except Draft.DoesNotExist:
        raise Http404(_("Cette démarche n'existe pas ou ne vous concerne pas.")) from None
    services.check_alive(draft)
    return draft


def _gone(request: HttpRequest, error: services.ProcedureError) -> HttpResponse:
    messages.error(request, error.message)
    return redirect("procedures:index")


# --- Mes démarches -----------------------------------------------------------------------------------------------


@login_required
@require_safe
def index_view(request: HttpRequest) -> HttpResponse:
    person = request.user.person
    cases = list(policy.cases_of(person))
    preparable = selectors.cases_prepared_for(person)
    new_applicant = not cases  # belongs to no case yet: their first request opens one
    limits = []
    for case in cases:
        if case not in preparable:
            limits.append(
                _(
                    "Les demandes de prestation du dossier n° %(case)s sont faites par l'allocataire (ou son "
                    "conjoint). Pour toute question sur ce dossier, adressez-vous à l'allocataire."
                )
                % {"case": case.case_number}
            )
    drafts = []
    now = timezone.now()
    for draft in selectors.drafts_visible(person):
        kind = registry.get(draft.kind)
        if kind is None or draft.expires_at <= now:  # expired: the housekeeping will remove it
            continue
        step = kind.step(draft.current_step) or kind.steps[0]
        drafts.append(
            {
                "draft": draft,
                "kind": kind,
                "step_number": kind.index(step.name) + 1,
                "step_count": len(kind.steps),
                "step_title": step.title,
                "by_other": draft.author_id != person.pk,
                "may_submit": services.may_submit(person, draft),
            }
        )
    submissions = [{"submission": s, "kind": registry.get(s.kind)} for s in selectors.submissions_visible(person)[:50]]
    context = {
        "kinds": registry.kinds() if (preparable or new_applicant) else [],
        "cases": preparable,
        "new_applicant": new_applicant,
        "limits": limits,
        "drafts": drafts,
        "submissions": submissions,
        "draft_days": settings.PROCEDURE_DRAFT_DAYS,
    }
    return render(request, "procedures/index.html", context)


@login_required
@require_POST
def start_view(request: HttpRequest, kind: str) -> HttpResponse:
    person = request.user.person
    procedure = registry.get(kind)
    if procedure is None:
        raise Http404(_("Cette démarche n'existe pas."))
    case = None
    if policy.cases_of(person).exists():
        try:
            case = policy.case_get(person, request.POST.get("case", ""))
        except Case.DoesNotExist:
            messages.error(request, _("Choisissez le dossier pour lequel vous faites cette demande."))
            return redirect("procedures:index")
    try:
        draft = services.draft_start(kind=procedure, person=person, case=case)
    except services.ProcedureError as error:
        return _gone(request, error)
    return redirect("procedures:step", draft.token, draft.current_step)


@login_required
@require_safe
def resume_view(request: HttpRequest, handle: str) -> HttpResponse:
    try:
        draft = _draft_or_404(request, handle)
    except services.DraftGone as error:
        return _gone(request, error)
    return redirect("procedures:step", draft.token, draft.current_step)


# --- A step --------------------------------------------------------------------------------------------------------


def _first_to_do(kind: ProcedureKind, draft: Draft) -> Step:
    return next((s for s in kind.steps if s.name not in draft.completed), kind.steps[-1])


def _stepper(kind: ProcedureKind, step: Step) -> dict:
    index = kind.index(step.name)
    return {
        "title": step.title,
        "number": index + 1,
        "count": len(kind.steps),
        "next_title": kind.steps[index + 1].title if index + 1 < len(kind.steps) else "",
    }


def _prefill_of(step: Step, context) -> Prefill:
    return step.prefill(context) if step.prefill is not None else Prefill()


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def step_view(request: HttpRequest, handle: str, step: str) -> HttpResponse:
    person = request.user.person
    try:
        draft = _draft_or_404(request, handle)
        kind = services.kind_of(draft)
    except services.ProcedureError as error:
        return _gone(request, error)
    current = kind.step(step)
    if current is None:
        raise Http404(_("Cette étape n'existe pas."))
    to_do = _first_to_do(kind, draft)
    if kind.index(current.name) > kind.index(to_do.name):
        messages.warning(request, _("Complétez d'abord l'étape « %(title)s ».") % {"title": to_do.title})
        return redirect("procedures:step", draft.token, to_do.name)
    if current.form is None:
        return _summary(request, draft, kind, current)
    context = services.context_for(draft, person)
    prefill = _prefill_of(current, context)
    status = 200
    document_errors: list[str] = []
    if request.method == "POST":
        action = request.POST.get("action", "")
        seen = request.POST.get("version", "")
        form = current.form(data=request.POST, ctx=context)
        try:
            if action.startswith("remove:"):
                services.document_remove(
                    draft=draft, document_id=action.removeprefix("remove:"), person=person, seen=seen
                )
            document_errors, seen = _upload(request, draft, current, person, seen)
            valid = form.is_valid() and not document_errors
            if (action == "upload" and not document_errors) or action.startswith("remove:"):
                # What was typed beside the file is kept, as « Enregistrer » would keep it.
                draft = services.step_save(
                    draft=draft, step=current, raw=raw_from(form, request.POST), person=person, seen=seen,
                    complete=form.is_valid() and not missing_documents(current, draft),
                )  # fmt: skip
                removed = action.startswith("remove:")
                messages.success(request, _("Le fichier a été retiré.") if removed else _("Votre fichier est déposé."))
                return redirect("procedures:step", draft.token, current.name)
            if action == "save":
                draft = services.step_save(
                    draft=draft,
                    step=current,
                    raw=raw_from(form, request.POST),
                    person=person,
                    seen=seen,
                    complete=valid and not missing_documents(current, draft),
                )
                expires = formats.date_format(timezone.localtime(draft.expires_at), "j F Y")
                messages.success(
                    request,
                    _(
                        "Votre démarche est enregistrée. Vous la reprendrez à cette étape, depuis n'importe quel "
                        "appareil, jusqu'au %(date)s."
                    )
                    % {"date": expires},
                )
                return redirect("procedures:index")
            if action == "previous" and not valid:
                draft = services.step_save(
                    draft=draft, step=current, raw=raw_from(form, request.POST), person=person, seen=seen,
                    complete=False,
                )  # fmt: skip
                previous = kind.steps[max(kind.index(current.name) - 1, 0)]
                return redirect("procedures:step", draft.token, previous.name)
            if valid and action in ("continue", "previous"):
                missing = missing_documents(current, draft)
                if missing and action == "continue":
                    document_errors = [
                        _("Déposez la pièce « %(label)s » pour continuer.") % {"label": slot.label} for slot in missing
                    ]
                else:
                    draft = services.step_save(
                        draft=draft,
                        step=current,
                        raw=raw_from(form, request.POST),
                        person=person,
                        seen=seen,
                        complete=not missing,
                    )
                    index = kind.index(current.name)
                    target = kind.steps[index + 1 if action == "continue" else max(index - 1, 0)]
                    return redirect("procedures:step", draft.token, target.name)
            elif action not in ("continue", "previous", "upload"):
                messages.error(request, _("Choisissez une action : continuer, revenir ou enregistrer."))
        except services.StaleDraft as error:
            messages.error(request, error.message)
            return redirect("procedures:step", draft.token, current.name)
        except services.DraftGone as error:
            return _gone(request, error)
        except services.ProcedureError as error:
            document_errors.append(error.message)
        draft.refresh_from_db()
        status = 400
    else:
        initial = {
            **(current.initial(context) if current.initial else {}),
            **{name: p.value for name, p in prefill.values.items()},
            **(draft.data.get(current.name) or {}),
        }
        form = unbound(current, context, initial)
    return render(
        request,
        "procedures/step.html",
        {
            "draft": draft,
            "kind": kind,
            "step": current,
            "stepper": _stepper(kind, current),
            "form": form,
            "prefill": prefill,
            "sources": _sources(prefill),
            "documents": _documents(draft, current),
            "document_errors": document_errors,
            "accept": ",".join([*ACCEPTED, *ACCEPTED.values()]),
            "max_bytes": settings.DOCUMENT_MAX_BYTES,
            "version": services.version(draft),
            "first": kind.index(current.name) == 0,
            "author_is_me": draft.author_id == person.pk,
        },
        status=status,
    )


def _upload(request: HttpRequest, draft: Draft, step: Step, person, seen: str) -> tuple[list[str], str]:
    """Keep the files sent with the step; the errors, and the draft's version after them."""
    errors = []
    for slot in step.documents:
        for upload in request.FILES.getlist(f"document_{slot.name}")[: services.MAX_DOCUMENTS_PER_SLOT]:
            try:
                document = services.document_add(
                    draft=draft, step=step, slot=slot.name, upload=upload, person=person, seen=seen
                )
            except DocumentRefused as refused:
                errors.append(refused.message)
            else:
                seen = services.version(document.draft)
    return errors, seen


def _sources(prefill: Prefill) -> list[str]:
    """« Données transmises par la DGFiP le 2 décembre 2026 à 10:15 », once per source."""
    seen: dict[str, str] = {}
    for value in prefill.values.values():
        seen.setdefault(value.source, formats.date_format(timezone.localtime(value.at), "j F Y à H:i"))
    return [
        _("Données transmises par %(source)s le %(date)s.") % {"source": source, "date": date}
        for source, date in seen.items()
    ]


def _documents(draft: Draft, step: Step) -> list[dict]:
    kept = list(draft.documents.filter(purpose__in=[s.name for s in step.documents]).order_by("uploaded_at"))
    return [{"slot": slot, "files": [d for d in kept if d.purpose == slot.name]} for slot in step.documents]


# --- The summary, and sending --------------------------------------------------------------------------------------


def _summary(request: HttpRequest, draft: Draft, kind: ProcedureKind, step: Step) -> HttpResponse:
    person = request.user.person
    try:
        checked = services.check_complete(draft, kind, person)
    except services.DraftIncomplete as incomplete:
        messages.warning(request, incomplete.message)
        return redirect("procedures:step", draft.token, incomplete.step)
    may_submit = services.may_submit(person, draft)
    status = 200
    errors: list[str] = []
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "submit":
                if request.POST.get("certify") != "on":
                    errors.append(_("Cochez la case « Je certifie sur l'honneur… » pour envoyer votre demande."))
                else:
                    submission = services.draft_submit(
                        draft=draft, person=person, seen=request.POST.get("version", "")
                    )
                    messages.success(request, _("Votre demande est envoyée à la Caf."))
                    return redirect("procedures:receipt", submission.reference)
            elif action == "hand_over":
                services.draft_hand_over(draft=draft, person=person)
                messages.success(request, _("L'allocataire est prévenu : la demande l'attend dans son espace."))
                return redirect("procedures:index")
            else:
                errors.append(_("Choisissez une action : envoyer la demande, ou revenir à une étape."))
        except services.DraftIncomplete as incomplete:
            messages.warning(request, incomplete.message)
            return redirect("procedures:step", draft.token, incomplete.step)
        except services.StaleDraft as error:
            messages.error(request, error.message)
            return redirect("procedures:step", draft.token, step.name)
        except services.DraftGone as error:
            return _gone(request, error)
        except services.ProcedureError as error:
            errors.append(error.message)
        status = 400
    sections = []
    for form_step, form in checked:
        files = draft.documents.filter(purpose__in=[s.name for s in form_step.documents]).order_by("uploaded_at")
        sections.append(
            {
                "step": form_step,
                "rows": rows(form),
                "files": list(files),
                "corrections": _corrections(draft, form_step, form),
            }
        )
    holder = None
    if draft.case_id and not may_submit:
        holder = draft.case.memberships.filter(role=Role.HOLDER).exists()
    return render(
        request,
        "procedures/summary.html",
        {
            "draft": draft,
            "kind": kind,
            "step": step,
            "stepper": _stepper(kind, step),
            "sections": sections,
            "may_submit": may_submit,
            "has_holder": holder,
            "errors": errors,
            "version": services.version(draft),
        },
        status=status,
    )


def _corrections(draft: Draft, step: Step, form) -> list[dict]:
    out = []
    for name, sent in (draft.prefill.get(step.name) or {}).items():
        if name in form.cleaned_data and not same_value(form.cleaned_data[name], sent["value"]):
            out.append(
                {
                    "label": form.fields[name].label,
                    "sent": display_sent(form, name, sent["value"]),
                    "source": sent["source"],
                }
            )
    return out


# --- Delete, receipts ----------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def delete_view(request: HttpRequest, handle: str) -> HttpResponse:
    try:
        draft = _draft_or_404(request, handle)
    except services.DraftGone as error:
        return _gone(request, error)
    kind = registry.get(draft.kind)
    if request.method == "POST":
        try:
            services.draft_delete(draft=draft, person=request.user.person)
        except services.ProcedureError as error:
            return _gone(request, error)
        messages.success(request, _("La démarche en cours a été supprimée."))
        return redirect("procedures:index")
    return render(request, "procedures/delete.html", {"draft": draft, "kind": kind})


def _submission_or_404(request: HttpRequest, reference: str) -> Submission:
    try:
        return selectors.submission_get(request.user.person, reference)
    except Submission.DoesNotExist:
        raise Http404(_("Ce récépissé n'existe pas ou ne vous concerne pas.")) from None


@login_required
@require_safe
def receipt_view(request: HttpRequest, reference: str) -> HttpResponse:
    submission = _submission_or_404(request, reference)
    return render(request, "procedures/receipt.html", receipt_context(submission))


@login_required
@require_safe
def receipt_pdf_view(request: HttpRequest, reference: str) -> HttpResponse:
    submission = _submission_or_404(request, reference)
    response = HttpResponse(receipt_pdf(submission), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="recepisse-{submission.reference}.pdf"'
    return response
