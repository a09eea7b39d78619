"""The merchant's embedded dashboard: overview, settings, models, data.

Pages (`pages.py`) are documents the admin loads with an `id_token` (`embedded_page`); what they
change goes through `/app/api/*` (`api.py`) with `Authorization: Bearer <session token>`
(`session_required`), which App Bridge adds to `fetch`. Pages are server-rendered with Polaris web
components, so they stay readable when Shopify's CDN scripts do not load. Each view validates its
input and calls one service; the overview's figures (`overview.py`) are read, never computed here.
"""
