from django.contrib import admin

from moncompte.identity.models import Person


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["birth_name", "usage_name", "given_names", "birth_date"]
    search_fields = ["birth_name", "usage_name", "nir", "provisional_id"]
    exclude = ["nir"]
    readonly_fields = ["nir_masked", "created_at", "updated_at"]
