from django import forms

from moncompte.accounts.assistance import IDENTIFIED_BY
from moncompte.identity.models import CorrectionRequest
from moncompte.messaging.models import Medium


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        help_text="Les 6 chiffres affichés par votre application d'authentification, ou un code de secours.",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false"}),
        error_messages={"required": "Saisissez le code."},
    )


class EnrolForm(forms.Form):
    code = forms.CharField(
        label="Code affiché par l'application",
        help_text="6 chiffres.",
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        error_messages={"required": "Saisissez le code affiché par votre application."},
    )


class RenewCodesForm(forms.Form):
    code = forms.CharField(
        label="Code affiché par votre application",
        help_text="6 chiffres : de nouveaux codes de secours ne se font qu'avec l'application.",
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        error_messages={"required": "Saisissez le code affiché par votre application."},
    )


class SearchForm(forms.Form):
    query = forms.CharField(
        label="Numéro allocataire ou numéro de Sécurité sociale",
        help_text="7 chiffres pour un numéro allocataire ; 13 ou 15 caractères pour un numéro de Sécurité sociale.",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": "Saisissez un numéro allocataire ou un numéro de Sécurité sociale."},
    )


class OpenForm(forms.Form):
    person = forms.IntegerField(widget=forms.HiddenInput)
    identified_by = forms.ChoiceField(
        label="Comment avez-vous identifié la personne ?",
        choices=list(IDENTIFIED_BY.items()),
        widget=forms.RadioSelect,
        error_messages={"required": "Indiquez comment la personne a été identifiée."},
    )


class ResetCodeForm(forms.Form):
    medium = forms.ChoiceField(
        label="Envoyer le code",
        choices=[(Medium.EMAIL, "par e-mail"), (Medium.SMS, "par SMS")],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choisissez où envoyer le code.",
            "invalid_choice": "Choisissez où envoyer le code.",
        },
    )


class ErrorReportForm(forms.Form):
    topic = forms.ChoiceField(
        label="Sujet",
        choices=[("", "Choisissez un sujet"), *CorrectionRequest.Topic.choices],
        error_messages={"required": "Choisissez le sujet de l'erreur.", "invalid_choice": "Choisissez le sujet."},
    )
    message = forms.CharField(
        label="Ce que la personne signale",
        help_text="N'y recopiez ni mot de passe, ni code, ni numéro de Sécurité sociale complet.",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Décrivez l'erreur signalée par la personne."},
    )


class ResetSecondFactorForm(forms.Form):
    agent = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Motif",
        help_text="Par exemple : téléphone perdu, changé ou réinitialisé. Inscrit au journal.",
        max_length=500,
        error_messages={"required": "Indiquez le motif de la réinitialisation."},
    )
