"""Shopify's published Admin API schema for the pinned version, and our GraphQL documents.

The schema is only for validation (tests, and the stand-in Shopify); production sends documents
without loading it. It is fetched by `make test` (tools/shopify-schema/fetch.sh) into `.cache/`.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any, cast

from graphql import (
    DocumentNode,
    GraphQLSchema,
    IntrospectionQuery,
    build_client_schema,
    parse,
    validate,
)

from shopapp.shopify.api import ADMIN_API_VERSION

REPO = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO / ".cache" / "shopify" / f"admin_{ADMIN_API_VERSION}.json.gz"
DOCUMENTS = Path(__file__).resolve().parent / "documents"


def _consistent_deprecations(introspection: dict[str, Any]) -> dict[str, Any]:
    """Clear the deprecation of an object's field whose interface field is not deprecated.

    Shopify's schema has a few (e.g. `ChannelDefinition.id` deprecated, `Node.id` not), which
    graphql-core 3.3 (gql 4) refuses as an invalid schema. Shopify serves those fields either
    way, so dropping the flag on the implementation changes nothing we validate against.
    """
    types = {t["name"]: t for t in introspection["__schema"]["types"]}
    for type_ in types.values():
        for field in type_.get("fields") or []:
            if not field.get("isDeprecated"):
                continue
            for interface in type_.get("interfaces") or []:
                declared = {f["name"]: f for f in types[interface["name"]].get("fields") or []}
                if field["name"] in declared and not declared[field["name"]].get("isDeprecated"):
                    field["isDeprecated"] = False
                    field["deprecationReason"] = None
    return introspection


@cache
def admin_schema(path: Path = SCHEMA_PATH) -> GraphQLSchema:
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: run `make test` (or tools/shopify-schema/fetch.sh) to fetch it"
        )
    with gzip.open(path) as f:
        raw = json.load(f)
    introspection = _consistent_deprecations(raw.get("data", raw))
    return build_client_schema(cast(IntrospectionQuery, introspection))


@cache
def document(name: str) -> DocumentNode:
    """A document of shopapp/shopify/documents/, parsed once."""
    return parse((DOCUMENTS / f"{name}.graphql").read_text())


def document_names() -> list[str]:
    return sorted(p.stem for p in DOCUMENTS.glob("*.graphql"))


def document_errors(doc: DocumentNode, schema: GraphQLSchema | None = None) -> list[str]:
    """What Shopify would refuse in a document: every validation error against the schema."""
    return [error.message for error in validate(schema or admin_schema(), doc)]
