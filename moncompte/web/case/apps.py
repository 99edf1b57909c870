from django.apps import AppConfig


class WebCaseConfig(AppConfig):
    name = "moncompte.web.case"
    label = "web_case"
    verbose_name = "Pages « Mon dossier » (paiements, courriers, demandes de la Caf)"
