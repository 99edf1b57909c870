"""The household space ("Mon foyer"), delegation and separation. Every case and member is read through the access
policy with the signed-in person; a case they do not belong to is a 404, an action their role does not allow is a
403 page that says why."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from moncompte.households import invitations, policy, selectors
from moncompte.households.delegation import DelegationError, delegation_grant, delegation_revoke
from moncompte.households.forms import GRANT, DelegationForm, SeparationForm
from moncompte.households.models import Case, Membership, Role, SignupRequest
from moncompte.households.policy import Capability
from moncompte.households.separation import SeparationError, separation_declare
from moncompte.web import form_status, posted, recent_auth_required


def _case_or_404(request: HttpRequest, case_number: str) -> Case:
    try:
        return policy.case_get(request.user, case_number)
    except Case.DoesNotExist:
        raise Http404(_("Ce dossier n'existe pas ou ne vous concerne pas.")) from None


def _refused(request: HttpRequest, case: Case, *, title: str, reasons: list[str]) -> HttpResponse:
    """A clear "you may not" page (403), rather than a bare error: the person belongs to the case, so they are told
    what they cannot do and why."""
    context = {"case": case, "title": title, "reasons": reasons}
    return render(request, "households/refused.html", context, status=403)


# --- Mon foyer -------------------------------------------------------------------------------------------------------


def _case_view(request: HttpRequest, case: Case) -> dict:
    """What the page shows of one case, as far as the policy lets this person see."""
    who = request.user
    standing = policy.standing(who, case)
    sees_case = policy.can(who, Capability.VIEW_CASE, case)
    may_invite = policy.can(who, Capability.INVITE_MEMBER, case)
    signup_requests = []
    if policy.can(who, Capability.APPROVE_SIGNUP, case):
        signup_requests = list(
            # Only members of the case still: a request of someone who left with a separation is not this holder's.
            SignupRequest.objects.filter(
                case=case, status=SignupRequest.Status.PENDING, person__memberships__case=case
            )
            .select_related("person")
            .order_by("created_at")
        )
    # The newest request of each member (one per member and case: a new one replaces the older).
    request_of = {signup.person_id: signup for signup in signup_requests}
    members = []
    for membership in selectors.members_with_account_flag(policy.members_visible(who, case)):
        invitable = may_invite and not membership.has_account and policy.may_have_account(membership.person)
        members.append(
            {
                "membership": membership,
                "person": membership.person,
                "role": membership.get_role_display(),
                "has_account": membership.has_account,
                "is_me": membership.person_id == standing.membership.person_id,
                "invitable": invitable,
                # Where the member's account stands, for whoever may invite them: a link sent and until when, or a
                # request waiting for the holder's decision.
                "invitation": invitations.active_invitation(case=case, person=membership.person)
                if invitable
                else None,
                "signup_request": request_of.get(membership.person_id) if not membership.has_account else None,
            }
        )
    # Whether the case has a partner: asked of the case itself (no one's data), to offer delegation and separation
    # only where they make sense; a partner knows there is one.
    has_partner = standing.role == Role.PARTNER or selectors.membership_in_role(case, Role.PARTNER) is not None
    return {
        "case": case,
        "role": standing.membership.get_role_display(),
        "members": members,
        "limits": policy.limits(who, case),
        "sees_case": sees_case,
        "has_partner": has_partner,
        "delegation": selectors.delegation_active(case) if sees_case else None,
        "manages_delegation": policy.can(who, Capability.MANAGE_DELEGATION, case),
        "may_declare_separation": has_partner and policy.can(who, Capability.DECLARE_SEPARATION, case),
        "signup_requests": signup_requests,
    }


@login_required
@require_safe
def home_view(request: HttpRequest) -> HttpResponse:
    if request.user.person is None:  # an agent's account
        return redirect("admin:index")
    cases = [_case_view(request, case) for case in policy.cases_of(request.user)]
    return render(request, "households/home.html", {"cases": cases, "single": False})


@login_required
@require_safe
def case_view(request: HttpRequest, case_number: str) -> HttpResponse:
    case = _case_or_404(request, case_number)
    return render(request, "households/home.html", {"cases": [_case_view(request, case)], "single": True})


# --- Delegation ------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def delegation_view(request: HttpRequest, case_number: str) -> HttpResponse:
    case = _case_or_404(request, case_number)
    if policy.can(request.user, Capability.MANAGE_DELEGATION, case):
        return _delegation_manage(request, case=case)
    if request.method == "POST":
        return _refused(
            request,
            case,
            title=_("Vous ne pouvez pas modifier la délégation"),
            reasons=[
                _(
                    "Seul l'allocataire du dossier peut accorder ou retirer la délégation. Rien n'a été modifié : "
                    "adressez-vous à l'allocataire."
                )
            ],
        )
    # Others see where they stand, without the details of the household they may not see.
    standing = policy.standing(request.user, case)
    context = {
        "case": case,
        "is_partner": standing.role == Role.PARTNER,
        "delegated": standing.delegated,
        "delegation": selectors.delegation_active(case) if standing.delegated else None,
    }
    return render(request, "households/delegation_status.html", context)


@recent_auth_required
def _delegation_manage(request: HttpRequest, *, case: Case) -> HttpResponse:
    """The holder's page: grant or revoke, after a recent password entry (DESIGN §7)."""
    form = DelegationForm(posted(request))
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["action"] == GRANT:
                partner = policy.member_get(
                    request.user, case, form.cleaned_data["partner"], Capability.MANAGE_DELEGATION
                )
                if partner.role != Role.PARTNER:
                    raise Membership.DoesNotExist
                delegation_grant(case=case, holder=request.user.person, partner=partner.person)
                message = _("La délégation est accordée à %(name)s. Vous et votre conjoint en êtes informés.")
                name = partner.person.full_name
            else:
                delegation = delegation_revoke(case=case, holder=request.user.person)
                message = _("La délégation de %(name)s est retirée. Vous et votre conjoint en êtes informés.")
                name = delegation.partner.full_name
        except Membership.DoesNotExist:
            form.add_error(None, _("Cette personne n'est pas le conjoint de ce dossier."))
        except DelegationError as error:
            form.add_error(None, error.message)
        else:
            policy.forget(request.user)
            messages.success(request, message % {"name": name})
            return redirect("households:delegation", case_number=case.case_number)
        status = 400
    elif form.is_bound:
        status = form_status(form)
    partner = selectors.membership_in_role(case, Role.PARTNER)
    context = {"case": case, "form": form, "partner": partner, "delegation": selectors.delegation_active(case)}
    return render(request, "households/delegation.html", context, status=status)


# --- Separation ------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def separation_view(request: HttpRequest, case_number: str) -> HttpResponse:
    case = _case_or_404(request, case_number)
    who = request.user
    if not policy.can(who, Capability.DECLARE_SEPARATION, case):
        return _refused(
            request,
            case,
            title=_("Vous ne pouvez pas déclarer de séparation"),
            reasons=[
                _(
                    "Une séparation est déclarée par l'allocataire ou par son conjoint. Si vos parents (ou les "
                    "personnes avec qui vous vivez) se séparent, c'est à l'un d'eux de la déclarer. Rien n'a été "
                    "modifié."
                )
            ],
        )
    sees_case = policy.can(who, Capability.VIEW_CASE, case)
    me = policy.standing(who, case).membership
    holder = selectors.membership_in_role(case, Role.HOLDER)
    partner = selectors.membership_in_role(case, Role.PARTNER)
    context = {"case": case, "sees_case": sees_case}
    pending = selectors.separation_pending(case)
    if holder is None or partner is None:
        context["no_couple"] = True
    elif pending is not None:
        context["pending"] = pending
        # The details are the declarer's, or for whoever sees the whole case.
        context["pending_details"] = sees_case or pending.declared_by_id == me.person_id
        context["leaving_is_me"] = pending.leaving_id == me.person_id
    else:
        form = SeparationForm(
            posted(request),
            couple=_couple_choices(me, holder, partner, sees_case),
            children=_children_choices(case, sees_case),
        )
        if request.method == "POST" and form.is_valid():
            try:
                separation_declare(
                    case=case,
                    declared_by=me.person,
                    leaving=(holder if form.cleaned_data["leaving"] == holder.person_id else partner).person,
                    separation_date=form.cleaned_data["separation_date"],
                    new_address=form.cleaned_data["new_address"],
                    children=form.residence(),
                )
            except SeparationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _(
                        "Votre déclaration de séparation est enregistrée. Un agent de la Caf va la traiter ; vous "
                        "serez prévenus tous les deux."
                    ),
                )
                return redirect("households:separation", case_number=case.case_number)
        context["form"] = form
        return render(request, "households/separation.html", context, status=form_status(form))
    if request.method == "POST":
        # Nothing to declare (no couple) or already declared: say so, change nothing.
        messages.error(
            request,
            _("Une séparation a déjà été déclarée pour ce dossier : elle est en cours de traitement par la Caf.")
            if pending is not None
            else _(
                "Ce dossier ne compte pas de couple (allocataire et conjoint) : il n'y a pas de séparation à déclarer."
            ),
        )
        return render(request, "households/separation.html", context, status=400)
    return render(request, "households/separation.html", context)


def _couple_choices(me: Membership, holder: Membership, partner: Membership, sees_case: bool) -> list:
    def label(membership: Membership) -> str:
        if membership.person_id == me.person_id:
            return _("Moi (%(name)s)") % {"name": membership.person.full_name}
        if sees_case:
            return f"{membership.person.full_name} ({membership.get_role_display()})"
        return _("L'allocataire du dossier") if membership.role == Role.HOLDER else _("Le conjoint")

    return [(holder, label(holder)), (partner, label(partner))]


def _children_choices(case: Case, sees_case: bool) -> list:
    """Children by name for whoever sees the case; by rank (eldest first) for a partner limited to their own data."""
    children = list(selectors.children_of(case))
    if sees_case:
        return [
            (
                child,
                _("Où vivra %(name)s (né(e) le %(date)s) ?")
                % {"name": child.person.full_name, "date": child.person.birth_date.strftime("%d/%m/%Y")},
            )
            for child in children
        ]
    return [
        (child, _("Où vivra l'enfant n° %(rank)s du dossier (par ordre d'âge, l'aîné en premier) ?") % {"rank": rank})
        for rank, child in enumerate(children, start=1)
    ]
