"""The Redis key declarations: each family has one format, checked against the rules redaction
relies on, and no production code builds a key outside the domains' key modules."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from shopapp.privacy.redis_redact import KEY_MODULES
from shopapp.rediskeys import KeyFamily, Scope, declared, family_of

ROOT = Path(__file__).resolve().parents[2]
# A value for every part a format may name (shopapp/rediskeys.py PARTS), as the code writes them.
SAMPLE: dict[str, str | int] = {
    "shop": "a-shop.myshopify.com",
    "user": "c:42",
    "event_id": "0b4a4c7e-6a4e-4d5e-9d2b-3f1f8c3a9e10:1",
    "minute": 29_445_120,
    "hour": 490_752,
    "address": "2001:db8:1:2::/64",
    "state": "Zm9vYmFy-_",
}


def sample_key(family: KeyFamily, **parts: str | int) -> str:
    return family.key(**{name: parts.get(name, SAMPLE[name]) for name in family.parts})


def test_every_domains_key_module_is_known_to_redaction() -> None:
    on_disk = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in (ROOT / "shopapp").glob("*/keys.py")
    }
    assert {module.__name__ for module in KEY_MODULES} == on_disk


def test_every_declared_key_is_recognised_as_its_own_family_only() -> None:
    families = declared()
    assert {family.scope for family in families} == set(Scope)
    for family in families:
        key = sample_key(family)
        assert family_of(key) is family, key
        assert [f for f in families if f.match(key) is not None] == [family]
        assert family.match(key) == {name: str(SAMPLE[name]) for name in family.parts}


def test_every_owner_is_a_module_of_the_project() -> None:
    for family in declared():
        importlib.import_module(family.owner)


def test_a_key_is_built_from_exactly_its_parts() -> None:
    (window,) = [f for f in declared(Scope.SHOPPER) if f.format == "ss:{shop}:win:{user}"]
    assert window.key(shop="s.myshopify.com", user="v:1") == "ss:s.myshopify.com:win:v:1"
    with pytest.raises(TypeError):
        window.key(shop="s.myshopify.com")
    with pytest.raises(TypeError):
        window.key(shop="s.myshopify.com", user="v:1", minute=1)


def test_a_scan_pattern_escapes_the_parts_it_is_given() -> None:
    (rate,) = [f for f in declared() if f.format == "ss:{shop}:rate:{minute}:{user}"]
    assert rate.pattern(shop="s*p", user="i:a?b[c]") == r"ss:s\*p:rate:*:i:a\?b\[c\]"


@pytest.mark.parametrize(
    ("format", "scope", "why"),
    [
        ("ss:{shop}:win:{user}", Scope.SHOP, "SHOPPER-scoped"),
        ("ss:{shop}:seen:{event_id}", Scope.SHOP, "EVENT-scoped"),
        ("ss:{shop}:recs", Scope.SHOPPER, "SHOPPER-scoped"),
        ("ss:win:{user}", Scope.SHOPPER, "starts with ss:{shop}:"),
        ("slipstream:{shop}:x", Scope.SHOP, "starts with ss:{shop}:"),
        ("ss:{shop}:x", Scope.GLOBAL, "names no shop"),
        ("ss:{shop}:x:{customer}", Scope.SHOP, "unknown parts ['customer']"),
    ],
)
def test_a_declaration_that_redaction_could_miss_is_refused(
    format: str, scope: Scope, why: str
) -> None:
    with pytest.raises(ValueError, match=why.replace("[", r"\[").replace("]", r"\]")):
        KeyFamily(format=format, owner="shopapp.events.keys", scope=scope, what="x", ttl_s=60)


def test_a_key_without_a_fixed_ttl_says_how_long_it_lives() -> None:
    with pytest.raises(ValueError, match="lifetime"):
        KeyFamily(format="ss:{shop}:x", owner="shopapp.events.keys", scope=Scope.SHOP, what="x")
    with pytest.raises(ValueError, match="no ttl_s"):
        KeyFamily(
            format="ss:{shop}:x",
            owner="shopapp.events.keys",
            scope=Scope.SHOP,
            what="x",
            ttl_s=60,
            expires=False,
        )


def _key_literals(path: Path) -> list[str]:
    """Strings in the module's code (not its docstrings) that start a key: `"ss:…"`, f-strings
    included."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith("ss:")
        and id(node) not in docstrings
    ]


def test_no_key_is_built_outside_the_key_modules() -> None:
    allowed = {ROOT / "shopapp" / "rediskeys.py", *(ROOT / "shopapp").glob("*/keys.py")}
    sources = [*(ROOT / "shopapp").rglob("*.py"), *(ROOT / "workers").rglob("*.py")]
    found = [hit for path in sources if path not in allowed for hit in _key_literals(path)]
    assert found == []
