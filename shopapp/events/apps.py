from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "shopapp.events"
    label = "events"
