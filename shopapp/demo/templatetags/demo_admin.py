"""`{% demo_admin_token_hook %}`: in the embedded app's pages, the script that asks the demo's
stand-in admin for session tokens. It renders nothing unless the demo is on."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def demo_admin_token_hook() -> SafeString:
    if not settings.DEMO_APP_PROXY:
        return mark_safe("")
    return mark_safe(render_to_string("demo/app_token_hook.html"))  # our own template
