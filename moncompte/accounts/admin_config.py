"""django.contrib.admin in INSTALLED_APPS, with the agents' site as `admin.site` (accounts/admin_site.py). A module
of its own: an app config is imported before the models are ready."""

from django.contrib.admin.apps import AdminConfig


class AgentAdminConfig(AdminConfig):
    default_site = "moncompte.accounts.admin_site.AgentAdminSite"
