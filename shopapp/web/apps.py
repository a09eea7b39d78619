from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "shopapp.web"
    label = "web"
