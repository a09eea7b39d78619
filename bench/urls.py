"""The app's URLs plus the benchmark's baseline view, served by the same gunicorn."""

from django.urls import include, path

from bench.views import baseline, proxy_baseline

urlpatterns = [
    path("bench/baseline", baseline),
    path("bench/proxy-baseline", proxy_baseline),
    path("", include("shopapp.urls")),
]
