from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models

from moncompte.identity.models import Person


class AccountManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, login_id: str, password: str | None = None, **fields):
        account = self.model(login_id=login_id, **fields)
        account.set_password(password)  # None gives an unusable password
        account.save(using=self._db)
        return account

    def create_superuser(self, login_id: str, password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(login_id, password, **fields)


class Account(AbstractBaseUser, PermissionsMixin):
    """One person's login. Citizens sign in with their NIR (`login_id` holds it); agents with a staff login id.

    Migration state is read off the account: no usable password yet (signed in with the case PIN), no validated
    contact yet, onboarding not seen yet. `accounts.middleware.MigrationGateMiddleware` enforces the order.
    """

    login_id = models.CharField("identifiant", max_length=32, unique=True)
    person = models.OneToOneField(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="account")
    email = models.EmailField("adresse e-mail", blank=True)
    email_verified_at = models.DateTimeField("e-mail validé le", null=True, blank=True)
    mobile = models.CharField("téléphone mobile", max_length=16, blank=True)
    mobile_verified_at = models.DateTimeField("mobile validé le", null=True, blank=True)
    password_changed_at = models.DateTimeField("mot de passe changé le", null=True, blank=True)
    onboarded_at = models.DateTimeField("présentation vue le", null=True, blank=True)
    is_active = models.BooleanField("actif", default=True)
    is_staff = models.BooleanField("agent", default=False)
    created_at = models.DateTimeField("créé le", auto_now_add=True)

    objects = AccountManager()

    USERNAME_FIELD = "login_id"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = "compte"
        permissions = [
            ("desk_use", "Peut recevoir les personnes au guichet et au téléphone (accueil)"),
            ("second_factor_reset", "Peut réinitialiser la double authentification d'un autre agent"),
        ]
        constraints = [
            # Two kinds of account that never meet: a citizen's (a person) is never an agent's (issue 13, item 2).
            models.CheckConstraint(
                condition=models.Q(person__isnull=True) | models.Q(is_staff=False, is_superuser=False),
                name="account_citizen_is_not_agent",
            ),
        ]

    def __str__(self) -> str:
        return str(self.person) if self.person_id else self.login_id

    def has_perm(self, perm, obj=None) -> bool:
        """Django's rules, except for the security team's tooling: membership of the team, superuser or not."""
        from moncompte.accounts import agents

        if agents.team_only(perm):
            return agents.has_role(self, agents.SECURITY) and perm in self.get_group_permissions()
        return super().has_perm(perm, obj)

    def has_module_perms(self, app_label) -> bool:
        from moncompte.accounts import agents

        if app_label in agents.SECURITY_ONLY_APPS:
            return agents.has_role(self, agents.SECURITY)
        return super().has_module_perms(app_label)

    @property
    def has_validated_contact(self) -> bool:
        return bool(self.email_verified_at or self.mobile_verified_at)

    @property
    def needs_password(self) -> bool:
        return not self.has_usable_password()

    @property
    def migration_done(self) -> bool:
        return self.has_usable_password() and self.has_validated_contact and self.onboarded_at is not None


class SessionRecord(models.Model):
    """One signed-in session, as the person sees it in "Mes sessions". `session_ref` is the journal's fingerprint
    of the session key, never the key itself. A session whose record is ended is signed out at its next request
    (`SessionLifetimeMiddleware`), whatever the session store."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="session_records")
    session_ref = models.CharField(max_length=16, db_index=True)
    via = models.CharField("moyen", max_length=16, blank=True)
    user_agent = models.CharField("appareil", max_length=256, blank=True)
    ip_address = models.GenericIPAddressField("adresse IP", null=True, blank=True)
    created_at = models.DateTimeField("ouverte le", auto_now_add=True)
    last_seen_at = models.DateTimeField("dernière activité")
    ended_at = models.DateTimeField("fermée le", null=True, blank=True)
    end_reason = models.CharField("raison de la fermeture", max_length=32, blank=True)

    class Meta:
        verbose_name = "session"
        indexes = [models.Index(fields=["account", "ended_at"])]

    def __str__(self) -> str:
        return f"Session du {self.created_at:%d/%m/%Y %H:%M}"


class SecurityReport(models.Model):
    """« Ce n'était pas moi »: the person disowned an event of their security history or a notice. The security
    team handles it in the admin."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="security_reports")
    entry_id = models.BigIntegerField("entrée du journal signalée", null=True, blank=True)
    kind = models.CharField("type d'évènement", max_length=64, blank=True)
    source = models.CharField("signalé depuis", max_length=16)
    created_at = models.DateTimeField("signalé le", auto_now_add=True)
    handled_at = models.DateTimeField("traité le", null=True, blank=True)
    note = models.TextField("note de l'équipe sécurité", blank=True)

    class Meta:
        verbose_name = "signalement de sécurité"
        verbose_name_plural = "signalements de sécurité"

    def __str__(self) -> str:
        return f"Signalement du {self.created_at:%d/%m/%Y %H:%M}"


class TrustedDevice(models.Model):
    """A browser where the person signed in (OWASP "device cookies"). The browser keeps a random token in a signed
    cookie; only its hash is stored here. The login limits an attacker can spend (per NIR, per address) never apply
    to a trusted device, which has its own small limit per NIR and device."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="trusted_devices")
    token_hash = models.CharField(max_length=64, unique=True)
    user_agent = models.CharField("appareil", max_length=256, blank=True)
    created_at = models.DateTimeField("reconnu le", auto_now_add=True)
    last_used_at = models.DateTimeField("dernière connexion")
    expires_at = models.DateTimeField("confiance jusqu'au")

    class Meta:
        verbose_name = "appareil de confiance"
        verbose_name_plural = "appareils de confiance"

    def __str__(self) -> str:
        return f"{self.user_agent[:40]} ({self.created_at:%Y-%m-%d})"
