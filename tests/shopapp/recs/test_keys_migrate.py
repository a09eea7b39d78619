from __future__ import annotations

from shopapp.demo.tp2 import DUID
from shopapp.recs.keys_migrate import shopper_keys_migrate
from shopapp.redis import get_redis


def test_bare_visitor_keys_become_kinded_and_unprovable_ones_go(shop_domain: str) -> None:
    r = get_redis()
    old_visitor, old_number = f"ss:{shop_domain}:win:{DUID}", f"ss:{shop_domain}:recs:207119551"
    kinded, unrelated = f"ss:{shop_domain}:recs:c:42", f"ss:{shop_domain}:popular"
    for key in (old_visitor, old_number, kinded, unrelated):
        r.set(key, key)
    assert shopper_keys_migrate(r=r, match=f"ss:{shop_domain}:*") == {"renamed": 1, "deleted": 1}
    assert r.get(f"ss:{shop_domain}:win:v:{DUID}") == old_visitor
    assert not r.exists(old_visitor)
    assert not r.exists(old_number)
    assert (r.get(kinded), r.get(unrelated)) == (kinded, unrelated)
    # A second run finds nothing to do.
    assert shopper_keys_migrate(r=r, match=f"ss:{shop_domain}:*") == {}


def test_a_bare_visitor_key_in_any_form_trackers_write_is_renamed(shop_domain: str) -> None:
    # The collector takes an unhyphenated or upper-case duid as the same visitor: so does this.
    r = get_redis()
    old = f"ss:{shop_domain}:recs:{DUID.replace('-', '').upper()}"
    r.set(old, "list")
    assert shopper_keys_migrate(r=r, match=f"ss:{shop_domain}:*") == {"renamed": 1}
    assert r.get(f"ss:{shop_domain}:recs:v:{DUID}") == "list"
