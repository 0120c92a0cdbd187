"""Reading Spector's replies: result 1 or a non-fatal code is success (the seed's GetResponseResult);
result 10 ("exists") is not success by itself (the delivery proves the order it names is this one)."""

from __future__ import annotations

import pytest

from backoffice_export.connectors.spector import api


@pytest.mark.parametrize(("result", "success"), [(1, True), (2, True), (10, False), (0, False), (20, False),
                                                 (22, False), (30, False), (99, False), (None, False)])
def test_result_1_or_a_non_fatal_code_is_success(result: int | None, success: bool) -> None:
    assert api.is_success(result) is success


def test_non_fatal_codes_are_documented() -> None:
    assert {api.Result.ARTICLES_ADDED_AS_TEXT} == api.NON_FATAL
    assert api.Result.OK not in api.NON_FATAL and api.EXISTS == 10


def test_a_reply_with_an_order_number() -> None:
    reply = api.read_reply({"result": 1, "message": "Order created", "orderNo": "100001"})
    assert reply == api.Reply(1, "Order created", "100001")
    assert api.read_reply({"result": 1, "orderNo": 100002}).order_no == "100002"


def test_an_error_reply_describes_code_message_and_fields() -> None:
    reply = api.read_reply({"result": 30, "message": "The order failed validation",
                            "errors": [{"field": "lines[1].articleName", "message": "articleName is required"}]})
    assert reply.describe() == ("result 30: The order failed validation "
                                "(lines[1].articleName: articleName is required)")
    assert api.read_reply({"result": 20, "message": "Customer X not found"}).describe() == \
        "result 20: Customer X not found"


@pytest.mark.parametrize("body", [None, "<html>Bad gateway</html>", [1], {"result": "1"}, {"result": True}])
def test_a_reply_that_is_not_the_documented_object_has_no_result(body: object) -> None:
    reply = api.read_reply(body, "<html>Bad gateway</html>")
    assert reply.result is None and not api.is_success(reply.result)
    assert reply.describe().startswith("no result code")


@pytest.mark.parametrize("order_no", [None, "", "  ", True, {"n": 1}])
def test_a_missing_or_odd_order_number_is_none(order_no: object) -> None:
    assert api.read_reply({"result": 1, "orderNo": order_no}).order_no is None


def test_look_up_finds_the_orders_with_that_external_number() -> None:
    body = {"result": 1, "orders": [{"orderNo": "100007", "externalOrderNo": "A/50011"},
                                    {"orderNo": "100009", "externalOrderNo": "A/5001"}]}
    assert api.found_order_nos(body, "A/5001") == ["100009"]
    assert api.found_order_nos({"result": 1, "orders": []}, "A/5001") == []
    with pytest.raises(ValueError, match="no 'orders' list"):
        api.found_order_nos({"result": 1}, "A/5001")


def test_an_order_read_back() -> None:
    assert api.read_order({"result": 1, "order": {"externalOrderNo": "A/1"}}) == {"externalOrderNo": "A/1"}
    assert api.read_order({"result": 44, "message": "No such order"}) is None
    assert api.order_path("100001") == "api/v2/orders/100001"
