"""The answer to a request of the Caf: a text and files. The rules (what the request expects, a text's length, what
a file is by its content, how many files) are the agency service's (agency.services.answer_send), which says what is
wrong and about which field; the form reads what was sent, asks for what the request expects with the service's own
words, and words the labels for the request."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from moncompte.agency.services import DOCUMENTS, MAX_FILES, MAX_TEXT_LENGTH, NEEDS_DOCUMENT, NEEDS_TEXT, TEXT
from moncompte.lib.sizes import size_label
from moncompte.procedures.documents import ACCEPTED


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern); cleans to a list, possibly empty."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ",".join([*ACCEPTED, *ACCEPTED.values()])}))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        items = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        if not items and self.required:
            raise ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class AnswerForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Votre réponse"),
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": NEEDS_TEXT},
    )
    documents = MultipleFileField(
        label=gettext_lazy("Le document demandé"), error_messages={"required": NEEDS_DOCUMENT}
    )

    def __init__(self, *args, expects: str, **kwargs):
        super().__init__(*args, **kwargs)
        text, documents = self.fields[TEXT], self.fields[DOCUMENTS]
        text.required = expects in ("text", "both")
        documents.required = expects in ("document", "both")
        if not text.required:
            text.label = _("Un mot pour accompagner votre document")
        if not documents.required:
            documents.label = _("Un document pour compléter votre réponse")
        text.help_text = _("%(count)s caractères au plus.") % {
            "count": formats.number_format(MAX_TEXT_LENGTH, force_grouping=True)
        }
        documents.help_text = _("PDF, JPEG ou PNG ; %(count)s fichiers au plus, de %(size)s au plus chacun.") % {
            "count": MAX_FILES,
            "size": size_label(settings.DOCUMENT_MAX_BYTES),
        }
