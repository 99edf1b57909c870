"""The household space ("Mon foyer"), delegation and separation. Every case and member is read through the access
policy with the signed-in person; a case they do not belong to is a 404, an action their role does not allow is a
403 page that says why."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from moncompte.accounts.selectors import has_account
from moncompte.households import invitations, policy, selectors
from moncompte.households.delegation import DelegationError, delegation_grant, delegation_revoke
from moncompte.households.models import Case, Membership, Role, SignupRequest
from moncompte.households.policy import Capability
from moncompte.households.separation import SeparationError, separation_declare
from moncompte.identity.models import Person
from moncompte.lib.links import absolute_url
from moncompte.messaging.models import Medium
from moncompte.signup import services as signup
from moncompte.verification.services import mask_destination
from moncompte.web.helpers import form_status, posted, recent_auth_required
from moncompte.web.household.forms import GRANT, DecisionForm, DelegationForm, InviteForm, SeparationForm


def _case_or_404(request: HttpRequest, case_number: str) -> Case:
    try:
        return policy.case_get(request.user, case_number)
    except Case.DoesNotExist:
        raise Http404(_("Ce dossier n'existe pas ou ne vous concerne pas.")) from None


def _refused(request: HttpRequest, case: Case, *, title: str, reasons: list[str]) -> HttpResponse:
    """A clear "you may not" page (403), rather than a bare error: the person belongs to the case, so they are told
    what they cannot do and why."""
    context = {"case": case, "title": title, "reasons": reasons}
    return render(request, "household/refused.html", context, status=403)


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
    return render(request, "household/home.html", {"cases": cases, "single": False})


@login_required
@require_safe
def case_view(request: HttpRequest, case_number: str) -> HttpResponse:
    case = _case_or_404(request, case_number)
    return render(request, "household/home.html", {"cases": [_case_view(request, case)], "single": True})


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
    return render(request, "household/delegation_status.html", context)


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
    return render(request, "household/delegation.html", context, status=status)


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
        return render(request, "household/separation.html", context, status=form_status(form))
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
        return render(request, "household/separation.html", context, status=400)
    return render(request, "household/separation.html", context)


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


# --- The holder invites a member, approves or refuses a request (URL names of the signup namespace) ------------------


def _invitation_link(token: str) -> str:
    """The link of an invitation (a page of the signup area), on SITE_URL (never the Host of the holder's request)."""
    return absolute_url(reverse("signup:invitation", args=[token]))


def _forbidden(request: HttpRequest, case: Case, message: str) -> HttpResponse:
    context = {
        "case": case,
        "message": message,
        "limits": policy.limits(request.user, case),
        "home": reverse("households:home"),
    }
    return render(request, "household/forbidden.html", context, status=403)


def _member_refusal(member: Person) -> str:
    """Why this member cannot be invited, or "" if they can."""
    if has_account(member):
        return _("%(name)s a déjà son compte personnel : il n'y a rien à faire.") % {"name": member.full_name}
    if not policy.may_have_account(member):
        return _(
            "%(name)s n'a pas encore 15 ans : il ou elle pourra avoir son propre compte à partir du %(date)s."
        ) % {
            "name": member.full_name,
            "date": formats.date_format(policy.account_opening_date(member.birth_date), "j F Y"),
        }
    return ""


@login_required
@recent_auth_required
@require_http_methods(["GET", "POST"])
def invite_view(request: HttpRequest, case_number: str, person_id: int) -> HttpResponse:
    case = _case_or_404(request, case_number)
    if not policy.can(request.user, policy.Capability.INVITE_MEMBER, case):
        return _forbidden(
            request, case, _("Seul l'allocataire du dossier peut inviter un membre du foyer à créer son compte.")
        )
    try:
        membership = policy.member_get(request.user, case, person_id, policy.Capability.INVITE_MEMBER)
    except Membership.DoesNotExist:
        raise Http404 from None
    member = membership.person
    refusal = _("Vous êtes l'allocataire : votre compte existe déjà.") if membership.role == Role.HOLDER else ""
    refusal = refusal or _member_refusal(member)
    # Issue 8, item 2: the invitee's contacts on file come first (shown masked); a contact the holder types instead
    # opens the account only with a code sent there, validates nothing, and the contacts on file are told.
    on_file = {} if refusal else invitations.contacts_on_file(member)
    preferred = next(
        (choice for choice, medium in InviteForm.ON_FILE_CHOICES.items() if medium in on_file), Medium.EMAIL
    )
    form = InviteForm(posted(request) if not refusal else None, initial={"medium": preferred}, on_file=on_file)
    invitation = None
    if request.method == "POST" and not refusal and form.is_valid():
        try:
            invitation = invitations.invitation_send(
                case=case,
                person=member,
                created_by=request.user.person,
                medium=form.cleaned_data["medium"],
                destination=form.cleaned_data["destination"],
                link=_invitation_link,
            )
        except invitations.InvitationThrottled as error:  # nothing was sent: the page says when to try again
            form.add_error(None, error.message)
    if invitation is not None:
        typed = signup.invitation_needs_code(invitation)
        messages.success(
            request,
            _(
                "L'invitation est envoyée à %(destination)s. %(name)s a jusqu'au %(date)s pour créer son compte ; "
                "toute invitation précédente ne fonctionne plus."
            )
            % {
                # A contact on file is the invitee's: the holder reads it masked, as on the form.
                "destination": invitation.destination if typed else mask_destination(invitation.destination),
                "name": member.first_name,
                "date": formats.date_format(timezone.localtime(invitation.expires_at), "j F Y"),
            },
        )
        if typed:
            explained = _(
                "Vous avez indiqué cette coordonnée vous-même : %(name)s confirmera par un code qu'il ou elle la "
                "reçoit, puis validera une coordonnée personnelle."
            )
            if on_file:
                explained += " " + _("La Caf prévient aussi %(name)s sur les coordonnées qu'elle connaît.")
            messages.info(request, explained % {"name": member.first_name})
        return redirect("households:home")
    context = {
        "case": case,
        "member": member,
        "role": membership.get_role_display(),
        "form": form,
        "refusal": refusal,
        "active": invitations.active_invitation(case=case, person=member),
        "on_file": bool(on_file),
        "lifetime_hours": settings.INVITATION_LIFETIME_HOURS,
        "home": reverse("households:home"),
    }
    status = 400 if request.method == "POST" and refusal else form_status(form)
    return render(request, "household/invite.html", context, status=status)


@login_required
@recent_auth_required
@require_http_methods(["GET", "POST"])
def request_decide_view(request: HttpRequest, case_number: str, request_id: int) -> HttpResponse:
    case = _case_or_404(request, case_number)
    if not policy.can(request.user, policy.Capability.APPROVE_SIGNUP, case):
        return _forbidden(
            request,
            case,
            _("Seul l'allocataire du dossier peut approuver ou refuser une demande de création de compte."),
        )
    try:
        signup_request = invitations.signup_request_get(case=case, request_id=request_id)
    except SignupRequest.DoesNotExist:
        raise Http404 from None
    membership = Membership.objects.filter(case=case, person=signup_request.person).first()
    form = DecisionForm(posted(request))
    problem = ""
    if signup_request.status == SignupRequest.Status.PENDING and has_account(signup_request.person):
        problem = _("%(name)s a déjà ouvert son compte : cette demande n'a plus d'objet.") % {
            "name": signup_request.person.full_name
        }
    if request.method == "POST" and form.is_valid():
        if signup_request.status != SignupRequest.Status.PENDING:
            form.add_error(None, _("Cette demande a déjà été traitée."))
        elif problem and form.cleaned_data["decision"] == "approve":
            form.add_error(None, problem)
        else:
            try:
                if form.cleaned_data["decision"] == "approve":
                    invitations.signup_request_approve(
                        signup_request=signup_request, by=request.user.person, link=_invitation_link
                    )
                    messages.success(
                        request,
                        _(
                            "Demande approuvée : %(name)s va recevoir un lien pour créer son compte, valable "
                            "%(hours)s heures."
                        )
                        % {"name": signup_request.person.first_name, "hours": settings.INVITATION_LIFETIME_HOURS},
                    )
                else:
                    invitations.signup_request_refuse(signup_request=signup_request, by=request.user.person)
                    messages.success(
                        request,
                        _("Demande refusée : aucun compte n'est créé. La personne en est informée."),
                    )
            except invitations.SignupRequestClosed:
                form.add_error(None, _("Cette demande a déjà été traitée."))
            else:
                return redirect("households:home")
    context = {
        "case": case,
        "signup_request": signup_request,
        "role": membership.get_role_display() if membership else "",
        "form": form,
        "problem": problem,
        "home": reverse("households:home"),
    }
    return render(request, "household/decide.html", context, status=form_status(form))
