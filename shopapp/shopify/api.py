"""The Admin API version every Shopify call uses, named here only: the stand-in Shopify
(tests/fakeshopify.py), the schema the tests validate against (shopapp/shopify/schema.py) and its
fetch (tools/shopify-schema/fetch.sh, the Makefile) read it from here. shopify.app.toml cannot: its
webhooks' api_version is checked against this one (tests/shopapp/test_app_config.py)."""

ADMIN_API_VERSION = "2026-10"
