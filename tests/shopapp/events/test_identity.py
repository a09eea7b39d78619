"""The shopper-id forms (events/identity.py): the one UUID check and the kinded ids."""

from __future__ import annotations

import pytest

from shopapp.demo.tp2 import DUID, VISITOR
from shopapp.events.identity import is_user_id, uuid_canonical, visitor_user


@pytest.mark.parametrize(
    "written", [DUID, DUID.upper(), DUID.replace("-", ""), f" {DUID}\n"], ids=str.strip
)
def test_a_uuid_as_trackers_write_it_has_one_canonical_form(written: str) -> None:
    assert uuid_canonical(written) == DUID
    assert visitor_user(written) == VISITOR


@pytest.mark.parametrize(
    "written",
    [
        "{" + DUID + "}",  # uuid.UUID takes these three; no tracker writes them
        "urn:uuid:" + DUID,
        "urn:" + DUID.replace("-", ""),  # as long as a hyphenated UUID
        DUID.replace("-", "")[:4] + "-" * 4 + DUID.replace("-", "")[4:],
        DUID[:-1],
        DUID + "0",
        "",
    ],
)
def test_anything_else_is_not_a_uuid(written: str) -> None:
    assert uuid_canonical(written) is None


@pytest.mark.parametrize(
    ("user_id", "well_formed"),
    [
        (VISITOR, True),
        (f"v:{DUID.upper()}", False),  # stored visitor ids are canonical
        ("v:207119551", False),
        ("c:42", True),
        ("c:42\n", False),
        ("i:ann+news@example.com", True),
        ("x:legacy:7", True),
        ("42", False),
    ],
)
def test_a_stored_shopper_id_carries_its_kind(user_id: str, well_formed: bool) -> None:
    assert is_user_id(user_id) is well_formed
