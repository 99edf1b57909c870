from django.apps import AppConfig


class JournalConfig(AppConfig):
    name = "moncompte.journal"
    verbose_name = "Journal des actions"

    def ready(self):
        # Apps register their undo handlers in their services module (`@journal.register_undo(kind)`). Load them
        # all now, so an undo run from any process (a command, a worker, a shell) finds every handler, not only
        # those of modules that happen to be imported already.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("services")
