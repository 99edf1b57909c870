from django.db import models

from moncompte.identity.models import Person


class Purpose(models.TextChoices):
    CONTACT = "contact", "Validation d'une adresse e-mail ou d'un mobile"
    PASSWORD_RESET = "reset", "Mot de passe oublié"
    #: Member signup: a code to a contact the agency holds for the person proves who they are.
    SIGNUP = "signup", "Création de compte d'un membre du foyer"
    #: Member signup with no contact on file: a code to a contact the person typed proves only that they receive it.
    SIGNUP_CONTACT = "signup_contact", "Création de compte : coordonnée saisie par le membre"
    #: Login from an untrusted client while the NIR is under attack: after the right password, a code completes it.
    LOGIN = "login", "Connexion depuis un nouvel appareil"
    #: Invitation sent to a contact the holder typed: the invitee proves they receive it (it proves nothing more).
    INVITATION = "invitation", "Invitation : coordonnée indiquée par l'allocataire"
    #: FranceConnect identified the owner of an account: a code to its validated contact proves it before the link.
    FRANCECONNECT = "franceconnect", "Liaison du compte à FranceConnect"
    #: A reset code an agent sent at the person's request (issue 13, item 3), typed on « J'ai reçu un code d'un
    #: conseiller »: bound to no session (the agent's is not the person's), so it is under the ceilings as well.
    DESK_RESET = "desk_reset", "Mot de passe oublié : code envoyé par un conseiller"


#: The codes anyone who knows a NIR can ask for, to a contact the agency holds: longer, and under the ceilings of
#: verification.ceilings. A code to a contact the visitor typed (SIGNUP_CONTACT) reaches whoever typed it: it is not.
ANONYMOUS_PURPOSES = frozenset({Purpose.PASSWORD_RESET, Purpose.SIGNUP, Purpose.DESK_RESET})

#: What a code sent by an agent is bound to, instead of a session: any browser may type it, with the person's NIR.
DESK_BINDING = "desk"


class Lane(models.TextChoices):
    """Who could have asked for a code. Send quotas are counted per lane, so that requests an attacker can make (an
    anonymous client that knows the NIR) never spend the quota of the person's own requests."""

    ANONYMOUS = "anonymous", "Demande anonyme"
    #: Anonymous, from a browser that holds a device cookie of the person's account (a trusted device).
    DEVICE = "device", "Appareil de confiance"
    #: After the right password (step-up at login) or in a signed-in session.
    PROVEN = "proven", "Mot de passe vérifié"
    #: An agent at the desk or on the phone, for the person in front of them.
    DESK = "desk", "Demande d'un agent"


class OneTimeCode(models.Model):
    """A code (6 digits, 8 for ANONYMOUS_PURPOSES) sent to one destination for one purpose. Only its HMAC is stored."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="one_time_codes")
    purpose = models.CharField("usage", max_length=16, choices=Purpose.choices)
    medium = models.CharField("canal", max_length=8)
    destination = models.CharField("destinataire", max_length=254)
    code_hmac = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    #: The session that asked for it (verification.context): the only one where it can be checked or voided.
    binding = models.CharField(max_length=32, blank=True, default="")
    #: The quota it counts in: a lane (Lane), with a trusted device's id ("device:42").
    lane = models.CharField(max_length=32, blank=True, default=Lane.ANONYMOUS)

    class Meta:
        verbose_name = "code à usage unique"
        verbose_name_plural = "codes à usage unique"
        indexes = [
            models.Index(fields=["person", "purpose", "-created_at"]),
            models.Index(fields=["destination", "-created_at"]),
            models.Index(fields=["person", "purpose", "binding"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} ({self.created_at:%Y-%m-%d %H:%M})"
