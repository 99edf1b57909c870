from django.contrib import admin

from moncompte.accounts.models import Account


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["__str__", "is_staff", "is_active", "created_at", "onboarded_at"]
    list_filter = ["is_staff", "is_active"]
    search_fields = ["person__birth_name", "person__usage_name"]
    exclude = ["password", "login_id"]
    readonly_fields = [
        "person",
        "email_verified_at",
        "mobile_verified_at",
        "password_changed_at",
        "last_login",
        "created_at",
        "onboarded_at",
    ]
