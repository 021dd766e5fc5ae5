from django.apps import AppConfig


class InstrumentsConfig(AppConfig):
    """Model providers, team secrets, prices, the output cache and model-call records."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "instruments"
