"""Tests of how an ``orderdesk`` connection's fields are read and checked."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_orderdesk.exceptions import OrderDeskConfigurationError
from airflow_orderdesk.settings import (
    DEFAULT_API_URL,
    DEFAULT_ORDER_PAGE_URL,
    DEFAULT_TIMEOUT,
    ConnectionSettings,
    parse_connection,
)

API_KEY = "key-abcdef-123"


def _parse(
    host: str | None = "https://od.example.test/api/v2",
    login: str | None = "12345",
    password: str | None = API_KEY,
    extra: Any = None,
) -> ConnectionSettings:
    return parse_connection(host, login, password, extra)


# -- host ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", [None, "", "   "])
def test_an_empty_host_means_order_desks_own_api(host: str | None) -> None:
    assert _parse(host=host).api_url == DEFAULT_API_URL


@pytest.mark.parametrize(
    ("host", "api_url"),
    [
        ("https://app.orderdesk.me/api/v2", DEFAULT_API_URL),
        ("https://app.orderdesk.me/api/v2/", DEFAULT_API_URL),
        ("od.example.test", "https://od.example.test/api/v2"),
        ("od.example.test/api/v2/", "https://od.example.test/api/v2"),
        ("https://od.example.test", "https://od.example.test/api/v2"),
        ("https://od.example.test/", "https://od.example.test/api/v2"),
        ("http://127.0.0.1:8765/api/v2", "http://127.0.0.1:8765/api/v2"),
        ("  https://od.example.test/api/v2/  ", "https://od.example.test/api/v2"),
    ],
)
def test_the_host_becomes_an_api_url_without_a_trailing_slash(host: str, api_url: str) -> None:
    assert _parse(host=host).api_url == api_url


@pytest.mark.parametrize(
    "host",
    [
        "https://od example.test/api/v2",
        "https://od.example.test/api/\tv2",
        "ftp://od.example.test/api/v2",
        "https://",
        "https:///api/v2",
        "https://user:s3cret@od.example.test/api/v2",
        "https://od.example.test/api/v2?store=12345",
        "https://od.example.test/api/v2#orders",
    ],
)
def test_a_malformed_host_is_refused_naming_the_host_field(host: str) -> None:
    with pytest.raises(OrderDeskConfigurationError) as caught:
        _parse(host=host)

    assert caught.value.field == "API URL (host)"
    assert str(caught.value).startswith("API URL (host): ")


def test_credentials_in_the_host_are_not_repeated_in_the_message() -> None:
    with pytest.raises(OrderDeskConfigurationError) as caught:
        _parse(host="https://user:s3cret@od.example.test/api/v2")

    assert "s3cret" not in str(caught.value)


# -- store id ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("login", [None, "", "  "])
def test_a_missing_store_id_is_refused(login: str | None) -> None:
    with pytest.raises(OrderDeskConfigurationError, match=r"^Store ID \(login\): is empty"):
        _parse(login=login)


@pytest.mark.parametrize("login", ["my-store", "12a45", "12 345", "\u0661\u0662\u0663"])
def test_a_store_id_that_is_not_a_number_is_refused(login: str) -> None:
    with pytest.raises(OrderDeskConfigurationError, match=r"^Store ID \(login\): must be .* numeric"):
        _parse(login=login)


def test_white_space_around_the_store_id_is_ignored() -> None:
    assert _parse(login=" 12345\n").store_id == "12345"


# -- API key -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("password", [None, "", "   "])
def test_a_missing_api_key_is_refused(password: str | None) -> None:
    with pytest.raises(OrderDeskConfigurationError, match=r"^API Key \(password\): is empty"):
        _parse(password=password)


@pytest.mark.parametrize(
    "password",
    [f" {API_KEY}", f"{API_KEY}\n", f"{API_KEY} ", "key-abcdef 123", "key-abcdef\t123", "key-abcdéf-123"],
)
def test_an_api_key_with_white_space_is_refused_without_repeating_it(password: str) -> None:
    with pytest.raises(OrderDeskConfigurationError) as caught:
        _parse(password=password)

    assert caught.value.field == "API Key (password)"
    assert password.strip() not in str(caught.value)
    assert "key-abcdef" not in str(caught.value)


def test_the_api_key_is_kept_as_given() -> None:
    assert _parse(password=API_KEY).api_key == API_KEY


def test_repr_never_shows_the_api_key() -> None:
    settings = _parse()

    assert API_KEY not in repr(settings)
    assert API_KEY not in str(settings)
    assert "api_key='***'" in repr(settings)


# -- extras --------------------------------------------------------------------------------------------


def test_without_extras_the_documented_defaults_apply() -> None:
    settings = _parse(extra={})

    assert (settings.timeout, settings.rate_limit_burst, settings.rate_limit_per_second) == (
        DEFAULT_TIMEOUT,
        20,
        3.0,
    )


def test_numeric_extras_may_arrive_as_text_from_the_ui_form() -> None:
    settings = _parse(extra={"timeout": "45", "rate_limit_burst": "10", "rate_limit_per_second": "1.5"})

    assert settings.timeout == 45.0
    assert settings.rate_limit_burst == 10
    assert isinstance(settings.rate_limit_burst, int)
    assert settings.rate_limit_per_second == 1.5


def test_numeric_extras_may_arrive_as_numbers() -> None:
    settings = _parse(extra={"timeout": 12, "rate_limit_burst": 5.0, "rate_limit_per_second": 0.5})

    assert (settings.timeout, settings.rate_limit_burst, settings.rate_limit_per_second) == (12.0, 5, 0.5)


@pytest.mark.parametrize("unset", ["", None])
def test_empty_extras_count_as_unset(unset: str | None) -> None:
    extra = dict.fromkeys(("timeout", "rate_limit_burst", "rate_limit_per_second", "order_page_url"), unset)

    settings = _parse(extra=extra)

    assert settings == _parse(extra={})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("timeout", "soon"),
        ("timeout", [30]),
        ("timeout", {"read": 30}),
        ("timeout", 0.5),
        ("timeout", True),
        ("timeout", float("nan")),
        ("timeout", "nan"),
        ("timeout", "inf"),
        ("rate_limit_burst", 0),
        ("rate_limit_burst", "2.5"),
        ("rate_limit_burst", False),
        ("rate_limit_burst", "-5"),
        ("rate_limit_per_second", 0.05),
        ("rate_limit_per_second", "three"),
        ("rate_limit_per_second", float("nan")),
    ],
)
def test_an_unusable_numeric_extra_is_refused_naming_it(name: str, value: Any) -> None:
    with pytest.raises(OrderDeskConfigurationError) as caught:
        _parse(extra={name: value})

    assert caught.value.field == f"extra {name!r}"
    assert name in str(caught.value)


def test_an_unknown_extra_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(OrderDeskConfigurationError) as caught:
        _parse(extra={"timeout": 10, "rate_limit": 5})

    message = str(caught.value)
    assert caught.value.field == "extra"
    assert "rate_limit" in message
    for known in ("timeout", "rate_limit_burst", "rate_limit_per_second", "order_page_url"):
        assert known in message


def test_extras_that_are_not_an_object_are_refused() -> None:
    with pytest.raises(OrderDeskConfigurationError, match=r"^extra: must be a JSON object"):
        _parse(extra=["timeout"])


# -- order page ----------------------------------------------------------------------------------------


def test_order_desks_own_api_links_to_order_desks_order_page() -> None:
    settings = _parse(host=None)

    assert settings.order_page_url == DEFAULT_ORDER_PAGE_URL
    assert settings.order_url("925086") == "https://app.orderdesk.me/orders/view/925086"


def test_another_api_host_links_to_the_same_path_on_that_host() -> None:
    settings = _parse(host="http://127.0.0.1:8765/api/v2")

    assert settings.order_url("925086") == "http://127.0.0.1:8765/orders/view/925086"


def test_a_custom_order_page_pattern_is_used() -> None:
    settings = _parse(extra={"order_page_url": "https://shop.example.test/admin/od/{order_id}/view"})

    assert settings.order_url("925086") == "https://shop.example.test/admin/od/925086/view"


@pytest.mark.parametrize(
    "pattern", ["https://shop.example.test/orders/", "https://shop.example.test/{id}", 42]
)
def test_an_order_page_pattern_without_the_order_id_is_refused(pattern: Any) -> None:
    with pytest.raises(OrderDeskConfigurationError) as caught:
        _parse(extra={"order_page_url": pattern})

    assert caught.value.field == "extra 'order_page_url'"
    assert "{order_id}" in caught.value.problem


@pytest.mark.parametrize("pattern", ["ftp://shop.example.test/{order_id}", "/orders/view/{order_id}"])
def test_an_order_page_pattern_that_is_not_a_web_address_is_refused(pattern: str) -> None:
    with pytest.raises(OrderDeskConfigurationError) as caught:
        _parse(extra={"order_page_url": pattern})

    assert caught.value.field == "extra 'order_page_url'"
    assert "https://" in caught.value.problem


# -- plain http ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "exposed"),
    [
        ("http://od.example.test/api/v2", True),
        ("http://10.0.0.5:8765/api/v2", True),
        ("https://od.example.test/api/v2", False),
        ("http://127.0.0.1:8765/api/v2", False),
        ("http://localhost:8765/api/v2", False),
        ("http://[::1]:8765/api/v2", False),
        (None, False),
    ],
)
def test_plain_http_is_flagged_only_off_the_loopback(host: str | None, exposed: bool) -> None:
    assert _parse(host=host).is_plain_http_off_loopback is exposed
