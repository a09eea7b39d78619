from django.apps import AppConfig


class RecsConfig(AppConfig):
    name = "shopapp.recs"
    label = "recs"
