"""The app's URLs plus the benchmark's baseline view, served by the same gunicorn."""

from django.urls import include, path

from bench.views import baseline

urlpatterns = [
    path("bench/baseline", baseline),
    path("", include("shopapp.urls")),
]
