from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "shopapp.privacy"
    label = "privacy"
