from django.apps import AppConfig


class WebProceduresConfig(AppConfig):
    name = "moncompte.web.procedures"
    label = "web_procedures"
    verbose_name = "Pages « Mes démarches »"
