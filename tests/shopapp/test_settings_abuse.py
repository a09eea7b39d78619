"""The collector's abuse settings, read from the environment at start-up."""

from __future__ import annotations

from pathlib import Path

from tests.shopapp.test_settings import PRODUCTION, _settings, _start

NAMES = (
    "COLLECTOR_RATE_PER_ADDRESS",
    "COLLECTOR_NEW_VISITORS_PER_ADDRESS",
    "TRUSTED_PROXY_HEADER",
    "TRUSTED_PROXY_HOPS",
)


def test_the_defaults_trust_no_header(tmp_path: Path) -> None:
    assert _settings(PRODUCTION, tmp_path, *NAMES) == {
        "COLLECTOR_RATE_PER_ADDRESS": 600,
        "COLLECTOR_NEW_VISITORS_PER_ADDRESS": 100,
        "TRUSTED_PROXY_HEADER": "",
        "TRUSTED_PROXY_HOPS": 1,
    }


def test_a_trusted_proxy_header_is_configured_by_the_environment(tmp_path: Path) -> None:
    env = {
        **PRODUCTION,
        "SLIPSTREAM_TRUSTED_PROXY_HEADER": "X-Forwarded-For",
        "SLIPSTREAM_TRUSTED_PROXY_HOPS": "2",
    }
    assert _settings(env, tmp_path, "TRUSTED_PROXY_HEADER", "TRUSTED_PROXY_HOPS") == {
        "TRUSTED_PROXY_HEADER": "X-Forwarded-For",
        "TRUSTED_PROXY_HOPS": 2,
    }


def test_impossible_limits_stop_start_up_with_their_name(tmp_path: Path) -> None:
    result = _start({**PRODUCTION, "COLLECTOR_RATE_PER_ADDRESS": "499"}, tmp_path)
    assert result.returncode != 0
    assert "COLLECTOR_RATE_PER_ADDRESS must be >= COLLECTOR_MAX_EVENTS" in result.stderr
    result = _start({**PRODUCTION, "SLIPSTREAM_TRUSTED_PROXY_HOPS": "0"}, tmp_path)
    assert result.returncode != 0
    assert "SLIPSTREAM_TRUSTED_PROXY_HOPS must be 1 or more" in result.stderr
