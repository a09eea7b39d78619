from django.apps import AppConfig


class ShopsConfig(AppConfig):
    name = "shopapp.shops"
    label = "shops"
