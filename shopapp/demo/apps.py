from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "shopapp.demo"
    label = "demo"
