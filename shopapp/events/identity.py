"""Who a shopper is: the one home of the shopper-id forms (docs/architecture.md, "identities").

A shopper id always carries its kind, so the kinds can never collide in a key, a row, a handle, an
export or a redaction:

- `c:<digits>`  a **customer**: Shopify's customer id, taken only from what Shopify signs (the app
  proxy's `logged_in_customer_id`, the orders webhook) or from the merchant's own import of
  `gid://shopify/Customer/<id>`. Nothing a browser sends can produce this form.
- `v:<uuid>`    a **visitor**: the tracker's first-party random id (`duid`), which must be a UUID.
- `i:<text>`    an **imported** id the merchant's file used for someone (an email, a legacy id):
  training data only, never served; redaction matches it by the customer's id, email and phone.
- `x:<text>`    rows kept from before ids had kinds, whose kind cannot be proven (never served;
  redaction treats them as possibly the customer's).

Everything downstream of the collector and the importer handles these strings and nothing else.
"""

from __future__ import annotations

import re
import uuid

from shopapp.shopify.ids import gid_id, resource_id

CUSTOMER = "c"
VISITOR = "v"
IMPORTED = "i"
LEGACY = "x"
# The longest stored id: the kind, a colon and up to 128 characters of the source's own id.
MAX_USER_ID = 130
# What an imported id may hold: printable, no separators the key formats or logs use.
_IMPORTED_RE = re.compile(r"^[A-Za-z0-9_.@+-]{1,128}$")
# A UUID as the trackers write it (a visitor's `duid`, an event's `eid`): 32 hex digits in either
# case, with or without the 8-4-4-4-12 hyphens. uuid.UUID alone would also take braces, `urn:`
# and hyphens anywhere. Stored ids hold only its canonical form: lowercase, hyphenated.
_UUID_RE = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)
_CANONICAL_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# Imported and legacy ids share one alphabet: rows migrated from the old, unkinded ids (events
# migration 0003) may hold a `:`, and imports a `+`.
USER_ID_RE = re.compile(
    r"(?:c:[0-9]{1,20}|v:" + _CANONICAL_UUID + r"|[ix]:[A-Za-z0-9_.@+:-]{1,128})"
)


class IdentityError(ValueError):
    """A shopper id that is not of the form its source must use."""


def customer_user(customer_id: object) -> str:
    """The shopper id of a Shopify customer, from a value Shopify signed (a numeric id)."""
    text = str(customer_id).strip()
    if resource_id(text) is None or int(text) == 0:
        raise IdentityError("a customer id is Shopify's numeric id")
    return f"{CUSTOMER}:{int(text)}"


def uuid_canonical(raw: object) -> str | None:
    """The canonical form of a UUID as the trackers write it; None for anything else."""
    text = str(raw).strip()
    return str(uuid.UUID(text)) if _UUID_RE.fullmatch(text) else None


def visitor_user(duid: object) -> str:
    """The shopper id of a visitor, from the tracker's `duid`, which must be a UUID."""
    canonical = uuid_canonical(duid)
    if canonical is None:
        raise IdentityError("a visitor id (duid) must be a UUID")
    return f"{VISITOR}:{canonical}"


def imported_user(raw: object) -> str:
    """The shopper id of a row of the merchant's own file: a customer's GID names the customer;
    anything else (an email, another system's id) stays an imported id of its own kind."""
    text = str(raw).strip()
    gid = gid_id(text, "Customer")
    if gid is not None:
        return customer_user(gid)
    if "@" in text:
        text = text.lower()  # emails compare case-insensitively (redaction matches them)
    if not _IMPORTED_RE.match(text):
        raise IdentityError("invalid user_id")
    return f"{IMPORTED}:{text}"


def is_customer(user_id: str) -> bool:
    return user_id.startswith(f"{CUSTOMER}:")


def is_visitor(user_id: str) -> bool:
    return user_id.startswith(f"{VISITOR}:")


def is_user_id(user_id: str) -> bool:
    """A well-formed shopper id of any kind (whole: `$` alone would let a trailing newline in)."""
    return bool(USER_ID_RE.fullmatch(user_id))


def customer_id_of(user_id: str) -> str:
    """Shopify's numeric id of a customer's shopper id (for Shopify's APIs)."""
    if not is_customer(user_id):
        raise IdentityError(f"{user_id!r} is not a customer")
    return user_id[2:]


def customer_aliases(*, customer_id: str, email: str = "", phone: str = "") -> list[str]:
    """Every id that can hold a customer's own rows, linked visitors aside: what customers/redact
    and customers/data_request look for (the customer, their imported rows by id, email or
    phone, and legacy rows that may have been theirs)."""
    ids = [customer_user(customer_id)]
    plain = ids[0][2:]
    ids += [f"{IMPORTED}:{plain}", f"{LEGACY}:{plain}"]
    for value in (email.strip().lower(), phone.strip()):
        if value and _IMPORTED_RE.match(value):
            ids.append(f"{IMPORTED}:{value}")
    return ids
