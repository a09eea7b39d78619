"""The Admin API version every Shopify call uses: pinned here and nowhere else."""

ADMIN_API_VERSION = "2026-10"
