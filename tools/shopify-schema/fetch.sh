#!/usr/bin/env bash
# Shopify's published Admin API schema (introspection JSON) for the version we pin, taken from the
# npm package that ships it (docs/decisions/0005-admin-schema-from-dev-mcp.md). npm verifies the
# tarball's registry integrity; we verify the file's own sha256 below. Only the one file is kept.
set -euo pipefail

# The version is pinned in shopapp/shopify/api.py, the one place that names it. The sha256 is that
# version's file: a new version needs a new one here (the check below refuses the file until then).
VERSION="$(sed -n 's/^ADMIN_API_VERSION = "\(.*\)"$/\1/p' "$(dirname "$0")/../../shopapp/shopify/api.py")"
test -n "$VERSION" || { echo "no ADMIN_API_VERSION in shopapp/shopify/api.py" >&2; exit 1; }
PACKAGE="@shopify/dev-mcp@1.16.0"
SHA256="f3b522f264556925eada700e795e4a002a9cba83444ebcc6c0d724254a0c6593"
DEST="${1:-.cache/shopify/admin_${VERSION}.json.gz}"

if [ -f "$DEST" ] && echo "$SHA256  $DEST" | sha256sum --check --status; then
  touch "$DEST"  # newer than this script, so make stops asking
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
npm pack --silent --pack-destination "$tmp" "$PACKAGE" >/dev/null
tar -xzf "$tmp"/shopify-dev-mcp-*.tgz -C "$tmp" "package/dist/data/admin_${VERSION}.json.gz"
if ! echo "$SHA256  $tmp/package/dist/data/admin_${VERSION}.json.gz" | sha256sum --check --status; then
  echo "admin_${VERSION}.json.gz from $PACKAGE does not match the pinned sha256" >&2
  exit 1
fi
mkdir -p "$(dirname "$DEST")"
mv "$tmp/package/dist/data/admin_${VERSION}.json.gz" "$DEST"
touch "$DEST"
echo "Shopify Admin schema $VERSION -> $DEST"
