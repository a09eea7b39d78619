"""A query's requested cost, computed the way Shopify's Admin API does, before it is sent.

Shopify's rules (https://shopify.dev/docs/api/usage/limits#cost-calculation): a scalar or enum
field costs 0, an object 1, a connection 2 plus `first`/`last` times the cost of one node, and a
mutation 10 on top of its selections. We use it to keep a query under Shopify's ceiling of 1,000
points before sending it, and to wait for enough of the bucket; Shopify's own figure, returned in
`extensions.cost`, is what the bucket then tracks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
)

MAX_QUERY_COST = 1000
MUTATION_COST = 10
CONNECTION_COST = 2


def _page_size(field: FieldNode, variables: Mapping[str, Any]) -> int | None:
    for argument in field.arguments or ():
        if argument.name.value not in ("first", "last"):
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            return int(variables.get(value.name.value) or 0)
    return None


def _selection_cost(
    selection_set: SelectionSetNode | None,
    variables: Mapping[str, Any],
    fragments: Mapping[str, FragmentDefinitionNode],
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.selection_set is None:
                continue  # a scalar or enum
            inner = _selection_cost(selection.selection_set, variables, fragments)
            size = _page_size(selection, variables)
            total += CONNECTION_COST + size * inner if size is not None else 1 + inner
        elif isinstance(selection, InlineFragmentNode):
            total += _selection_cost(selection.selection_set, variables, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments[selection.name.value]
            total += _selection_cost(fragment.selection_set, variables, fragments)
    return total


def requested_cost(doc: DocumentNode, variables: Mapping[str, Any] | None = None) -> int:
    """The cost Shopify would request for the document's (single) operation."""
    variables = variables or {}
    fragments = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
    total = 0
    for definition in doc.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if definition.operation == OperationType.MUTATION:
            for selection in definition.selection_set.selections:
                if isinstance(selection, FieldNode):
                    total += MUTATION_COST + _selection_cost(
                        selection.selection_set, variables, fragments
                    )
        else:
            total += _selection_cost(definition.selection_set, variables, fragments)
    return total
