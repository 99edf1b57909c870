from django.apps import AppConfig


class JournalConfig(AppConfig):
    name = "moncompte.journal"
    verbose_name = "Journal des actions"

    def ready(self):
        # Apps declare their journal kinds in their kinds module and register their undo handlers in their services
        # module (`@journal.register_undo(kind)`). Load them all now, so any process (a command, a worker, a shell)
        # knows every kind and every handler, not only those of modules that happen to be imported already.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("kinds", "services")
