from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from moncompte.accounts import security, services, sessions
from moncompte.accounts.models import Account, SecurityReport, SessionRecord
from moncompte.identity.phones import PhoneError, parse_mobile
from moncompte.journal.admin import ReadOnlyAdmin
from moncompte.messaging.models import Medium


class ContactCorrectionForm(forms.Form):
    """« Corriger une coordonnée »: what the agent types, checked as the person's own contact form checks it."""

    medium = forms.ChoiceField(
        label="Coordonnée à corriger",
        choices=[(Medium.EMAIL, "Adresse e-mail"), (Medium.SMS, "Téléphone mobile")],
        widget=forms.RadioSelect,
    )
    value = forms.CharField(label="Nouvelle valeur", max_length=254)
    reason = forms.CharField(
        label="Motif",
        help_text="Qui a demandé la correction, et comment (au guichet, au téléphone, par écrit).",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, account: Account, **kwargs):
        self.account = account
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        medium, value = cleaned.get("medium"), (cleaned.get("value") or "").strip()
        if not medium or not value:
            return cleaned
        if medium == Medium.EMAIL:
            value = value.lower()
            try:
                validate_email(value)
            except ValidationError:
                self.add_error("value", "Saisissez une adresse e-mail valide, par exemple nom@domaine.fr.")
                return cleaned
        else:
            try:
                value = parse_mobile(value)
            except PhoneError as error:
                self.add_error("value", error.message)
                return cleaned
        field, _verified_field = services.contact_field(medium)
        if getattr(self.account, field) == value:
            self.add_error("value", "C'est déjà la coordonnée enregistrée sur ce compte.")
        cleaned["value"] = value
        return cleaned


# django-otp's own admin shows a device's secret (its QR code) to whoever may view devices, and changes devices
# outside the journal: agents' second factors are managed at the desk (`/guichet/equipe/`, accounts.agents).
for _device in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device):
        admin.site.unregister(_device)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    """Contacts and roles are read-only here, for superusers too (ASVS 6.4.3, 6.3.4): a contact changes through
    « Corriger une coordonnée » (`services.contact_correct_by_agent`: journaled, the validation cleared, the old
    contact warned), roles through `manage.py agent_roles` (`services.account_roles_set`, journaled). The password
    hash and the login id (a citizen's NIR) are not shown at all. Accounts are opened by the services, never here;
    they are closed and reopened by journaled actions, never deleted."""

    list_display = ["__str__", "is_staff", "is_active", "created_at", "onboarded_at"]
    list_filter = ["is_staff", "is_active"]
    search_fields = ["person__birth_name", "person__usage_name"]
    exclude = ["password", "login_id"]
    readonly_fields = [
        "person",
        "email",
        "email_verified_at",
        "mobile",
        "mobile_verified_at",
        "is_active",
        "is_staff",
        "is_superuser",
        "groups",
        "user_permissions",
        "password_changed_at",
        "last_login",
        "created_at",
        "onboarded_at",
    ]
    actions = ["end_sessions", "deactivate", "reactivate"]
    change_form_template = "admin/accounts/account/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # an account is closed (« Fermer les comptes sélectionnés »), never deleted: its journal stays

    def get_urls(self):
        # Before the default ones: "<path:object_id>/" would take this path for an object id.
        return [
            path(
                "<path:object_id>/corriger-coordonnee/",
                self.admin_site.admin_view(self.correct_contact_view),
                name="accounts_account_correct_contact",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        account = self.get_object(request, unquote(object_id))
        can_correct = (
            account is not None and account.person_id is not None and self.has_change_permission(request, account)
        )
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "can_correct": can_correct})

    def correct_contact_view(self, request, object_id):
        """« Corriger une coordonnée » of a citizen's account: the new contact is recorded unvalidated."""
        account = self.get_object(request, unquote(object_id))
        if account is None or account.person_id is None:
            raise Http404
        if not self.has_change_permission(request, account):
            raise PermissionDenied
        form = ContactCorrectionForm(request.POST if request.method == "POST" else None, account=account)
        if request.method == "POST" and form.is_valid():
            services.contact_correct_by_agent(
                account=account,
                medium=form.cleaned_data["medium"],
                value=form.cleaned_data["value"],
                agent_account_id=request.user.pk,
                reason=form.cleaned_data["reason"],
            )
            self.message_user(
                request,
                "Coordonnée corrigée. Elle n'est pas validée : aucun code ni message de sécurité n'y sera envoyé "
                "tant que la personne ne l'aura pas confirmée avec un code. L'ancienne coordonnée, si elle était "
                "validée, et les autres coordonnées validées de la personne sont prévenues.",
                messages.SUCCESS,
            )
            return redirect("admin:accounts_account_change", account.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": account,
            "form": form,
            "title": "Corriger une coordonnée",
        }
        return TemplateResponse(request, "admin/accounts/account/correct_contact.html", context)

    @admin.action(description="Fermer les sessions des comptes sélectionnés", permissions=["change"])
    def end_sessions(self, request, queryset):
        accounts = list(queryset)
        ended = sum(
            sessions.sessions_end_by_agent(account=account, agent_account_id=request.user.pk) for account in accounts
        )
        self.message_user(request, f"{ended} session(s) fermée(s) sur {len(accounts)} compte(s).", messages.SUCCESS)

    @admin.action(description="Fermer les comptes sélectionnés (plus aucune connexion)", permissions=["change"])
    def deactivate(self, request, queryset):
        closed = self._each(request, queryset, security.account_deactivate_by_agent)
        self.message_user(request, f"{closed} compte(s) fermé(s) ; leurs sessions sont terminées.", messages.SUCCESS)

    @admin.action(description="Rouvrir les comptes sélectionnés", permissions=["change"])
    def reactivate(self, request, queryset):
        reopened = self._each(request, queryset, security.account_reactivate_by_agent)
        self.message_user(request, f"{reopened} compte(s) rouvert(s).", messages.SUCCESS)

    @staticmethod
    def _each(request, queryset, service) -> int:
        """Run an agent's service on each selected account; how many it changed."""
        return sum(service(account=account, agent_account_id=request.user.pk) for account in queryset)


@admin.register(SecurityReport)
class SecurityReportAdmin(ReadOnlyAdmin):
    """« Ce n'était pas moi »: what the person disowned, for the security team (the journal entry's id leads to the
    details in the journal)."""

    list_display = ["created_at", "account", "kind", "source", "entry_id", "handled_at"]
    list_filter = [("handled_at", admin.EmptyFieldListFilter), "source", "kind"]
    search_fields = ["account__person__birth_name", "account__person__usage_name"]
    date_hierarchy = "created_at"
    list_select_related = ["account__person"]
    fields = ["account", "kind", "entry_id", "source", "created_at", "handled_at", "note"]
    readonly_fields = fields
    actions = ["mark_handled"]

    @admin.action(description="Marquer comme traités")
    def mark_handled(self, request, queryset):
        count = 0
        for report in queryset.filter(handled_at__isnull=True):
            security.security_report_mark_handled(report=report, agent_account_id=request.user.pk)
            count += 1
        self.message_user(request, f"{count} signalement(s) marqué(s) comme traité(s).", messages.SUCCESS)


@admin.register(SessionRecord)
class SessionRecordAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "via", "ip_address", "last_seen_at", "ended_at", "end_reason"]
    list_filter = [("ended_at", admin.EmptyFieldListFilter), "via", "end_reason"]
    search_fields = ["account__person__birth_name", "account__person__usage_name"]
    date_hierarchy = "created_at"
    list_select_related = ["account__person"]
    fields = ["account", "via", "user_agent", "ip_address", "created_at", "last_seen_at", "ended_at", "end_reason"]
    readonly_fields = fields
    change_list_template = "admin/accounts/sessionrecord/change_list.html"

    def has_end_all_permission(self, request) -> bool:
        """Closing every citizen's session at once is for superusers only."""
        return request.user.is_active and request.user.is_superuser

    def get_urls(self):
        return [
            path(
                "fermer-toutes/",
                self.admin_site.admin_view(self.end_all_view),
                name="accounts_sessionrecord_end_all",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        context = {**(extra_context or {}), "can_end_all": self.has_end_all_permission(request)}
        return super().changelist_view(request, context)

    def end_all_view(self, request):
        """« Fermer toutes les sessions des allocataires », after a confirmation page."""
        if not self.has_end_all_permission(request):
            raise PermissionDenied
        if request.method == "POST" and request.POST.get("confirm") == "oui":
            ended = sessions.sessions_end_all_by_agent(agent_account_id=request.user.pk)
            self.message_user(
                request,
                f"{ended} session(s) fermée(s). Chaque personne est déconnectée à sa prochaine action.",
                messages.SUCCESS,
            )
            return redirect("admin:accounts_sessionrecord_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Fermer toutes les sessions des allocataires",
            "open_count": SessionRecord.objects.filter(ended_at__isnull=True, account__is_staff=False).count(),
        }
        return TemplateResponse(request, "admin/accounts/sessionrecord/end_all.html", context)
