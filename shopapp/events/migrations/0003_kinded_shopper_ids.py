"""Shopper ids get their kind (shopapp/events/identity.py): `c:` customers, `v:` visitors, `i:`
imported ids, and `x:` for rows whose kind the old, shared namespace cannot prove.

Before, a bare id was a customer's or a visitor's depending on who sent it, and the direct
collector path let anyone send a customer's numeric id as a `duid`. So a bare id is taken as a
customer only where Shopify vouched for it (an orders webhook row, or a customer id an identity
link recorded from a signed request); a UUID is a visitor; an import row is an imported id; every
other row becomes `x:` (kept as training data, never served, and deleted by a redaction of the
customer whose id it carries). The rules are inlined here on purpose: a migration must not
change meaning when the app's code does.
"""

import re

from django.db import migrations, models

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
DIGITS_RE = re.compile(r"^[0-9]{1,20}$")
BATCH = 2000


def _visitor_or_legacy(raw):
    if UUID_RE.match(raw):
        hexes = raw.replace("-", "").lower()
        return f"v:{hexes[:8]}-{hexes[8:12]}-{hexes[12:16]}-{hexes[16:20]}-{hexes[20:]}"
    return f"x:{raw}"


def _customer_or_legacy(raw):
    return f"c:{int(raw)}" if DIGITS_RE.match(raw) and int(raw) else f"x:{raw}"


def _row_user(raw, event_id, vouched):
    if event_id.startswith("imp-"):
        return f"i:{raw.lower() if '@' in raw else raw}"
    if event_id.startswith("order-") or raw in vouched:
        return _customer_or_legacy(raw)
    return _visitor_or_legacy(raw)


def forwards(apps, schema_editor):
    Interaction = apps.get_model("events", "Interaction")
    IdentityLink = apps.get_model("events", "IdentityLink")
    vouched = {}
    for shop_id, customer_id in IdentityLink.objects.values_list("shop_id", "customer_id"):
        vouched.setdefault(shop_id, set()).add(customer_id)
    links = []
    for link in IdentityLink.objects.all().iterator(chunk_size=BATCH):
        link.visitor_id = _visitor_or_legacy(link.visitor_id)
        link.customer_id = _customer_or_legacy(link.customer_id)
        links.append(link)
    IdentityLink.objects.bulk_update(links, ["visitor_id", "customer_id"], batch_size=BATCH)
    last = 0
    while True:
        rows = list(Interaction.objects.filter(id__gt=last).order_by("id")[:BATCH])
        if not rows:
            break
        for row in rows:
            row.user_id = _row_user(row.user_id, row.event_id, vouched.get(row.shop_id, ()))
        Interaction.objects.bulk_update(rows, ["user_id"])
        last = rows[-1].id


class Migration(migrations.Migration):
    dependencies = [("events", "0002_identitylink")]

    operations = [
        migrations.AlterField(
            model_name="interaction", name="user_id", field=models.CharField(max_length=130)
        ),
        migrations.AlterField(
            model_name="identitylink", name="visitor_id", field=models.CharField(max_length=130)
        ),
        migrations.AlterField(
            model_name="identitylink", name="customer_id", field=models.CharField(max_length=130)
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
