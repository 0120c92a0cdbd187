"""The ledger's FastAPI app through ``TestClient``: escaping, links, filters, pages, JSON, auth."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backoffice_export import export_state
from backoffice_export.ledger.app import can_read_ledger, create_app, order_database
from tests.ledger.test_ledger_queries import (
    DAG,
    REMARK,
    RUN_ENCODED,
    XSS_ERROR,
    mark_waiting_and_remarked,
    seed_ledger,
)

TI_1001 = f"/dags/{DAG}/runs/{RUN_ENCODED}/tasks/reflecta.send_chunk/mapped/0"
TI_2001 = f"/dags/{DAG}/runs/manual__2026-11-21T08%3A30%3A00%2B00%3A00/tasks/resend"


class LedgerDom(HTMLParser):
    """What a user sees on the ledger page: rows by order nr, dropdown options, links."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}
        self.links: dict[str, str] = {}  # order nr -> task instance href
        self.options: dict[str, list[tuple[str, bool]]] = {}
        self.pager: dict[str, str] = {}
        self._row: dict[str, str] | None = None
        self._cell: str | None = None
        self._select: str | None = None
        self._option: tuple[str, bool] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and "data-order-id" in a:
            self._row = {}
        elif tag == "td" and self._row is not None:
            self._cell = (a.get("class") or "").split()[-1]
            self._row[self._cell] = ""
        elif tag == "a" and self._cell == "ti" and self._row is not None:
            self._row["href"] = a["href"] or ""
        elif tag == "a" and a.get("rel"):
            self.pager[a["rel"] or ""] = a["href"] or ""
        elif tag == "select":
            self._select = a["name"]
            self.options[self._select or ""] = []
        elif tag == "option" and self._select:
            self._option = (a["value"] or "", "selected" in a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._row is not None:
            self.rows[self._row["order-nr"]] = self._row
            if "href" in self._row:
                self.links[self._row["order-nr"]] = self._row["href"]
            self._row = None
        elif tag == "td":
            self._cell = None
        elif tag == "select":
            self._select = None
        elif tag == "option" and self._option is not None:
            self.options[self._select or ""].append(self._option)
            self._option = None

    def handle_data(self, data: str) -> None:
        if self._row is not None and self._cell is not None:
            self._row[self._cell] += data


def selected(dom: LedgerDom, name: str) -> str:
    return next(value for value, is_selected in dom.options[name] if is_selected)


@pytest.fixture
def ledger_app(sqlite_engine) -> FastAPI:
    seed_ledger(sqlite_engine)
    app = create_app()
    app.dependency_overrides[can_read_ledger] = lambda: None
    app.dependency_overrides[order_database] = lambda: sqlite_engine
    return app


@pytest.fixture
def client(ledger_app) -> TestClient:
    with TestClient(ledger_app) as client:
        yield client


def test_the_page_lists_every_order_with_its_columns(client):
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    dom = LedgerDom(response.text)
    assert set(dom.rows) == {"1001", "1002", "1003", "2001", "2002", "2003"}
    sent = dom.rows["1001"]
    assert (sent["administration"], sent["connector"], sent["state"], sent["erp-order-nr"], sent["attempts"]) == (
        "shop-nl", "reflecta", "sent", "R-5001", "1")
    assert sent["destination"] == "sftp://erp.example/in/ORD1001.xml"
    assert sent["sent-at"].startswith("20")
    assert dom.rows["1003"]["state"] == "pending" and dom.rows["1003"]["sent-at"] == ""
    assert "6 orders" in response.text


def test_an_error_text_is_shown_escaped_never_as_markup(client):
    html = client.get("/").text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert LedgerDom(html).rows["1002"]["error"] == XSS_ERROR


def test_task_instance_links_point_at_the_airflow_ui(client):
    dom = LedgerDom(client.get("/").text)
    assert dom.links["1001"] == TI_1001
    assert dom.links["2001"] == TI_2001  # map index -1: no /mapped part
    assert dom.links["2002"].endswith("/tasks/ezxml.send_chunk/mapped/3")
    assert "1003" not in dom.links  # pending: no task has handled it yet


def test_links_follow_the_api_servers_base_path(ledger_app):
    """Under ``[api] base_url = http://host/airflow`` the UI, and so each link, lives under /airflow."""
    parent = FastAPI(root_path="/airflow")
    parent.mount("/backoffice-ledger", ledger_app)
    with TestClient(parent) as client:
        response = client.get("/airflow/backoffice-ledger/")
        body = client.get("/airflow/backoffice-ledger/api/orders").json()
    assert LedgerDom(response.text).links["1001"] == "/airflow" + TI_1001
    assert {o["task_instance"]["url"] for o in body["orders"] if o["internal_order_nr"] == "1001"} == {
        "/airflow" + TI_1001}


def test_filters_narrow_the_rows_and_stay_selected(client):
    dom = LedgerDom(client.get("/", params={"administration": "shop-be", "state": "sent"}).text)
    assert set(dom.rows) == {"2001", "2003"}
    assert selected(dom, "administration") == "shop-be"
    assert selected(dom, "state") == "sent"
    assert selected(dom, "connector") == ""


def test_dropdowns_are_filled_from_the_data(client):
    dom = LedgerDom(client.get("/").text)
    assert [v for v, _ in dom.options["administration"]] == ["", "shop-be", "shop-nl"]
    assert [v for v, _ in dom.options["connector"]] == ["", "ezxml", "reflecta"]
    assert [v for v, _ in dom.options["state"]] == ["", "pending", "claimed", "sent", "failed"]


def test_empty_filter_values_from_the_form_mean_all(client):
    dom = LedgerDom(client.get("/?administration=&connector=&state=&per_page=100").text)
    assert len(dom.rows) == 6


def test_pages_link_to_each_other_keeping_the_filters(client):
    first = LedgerDom(client.get("/", params={"connector": "ezxml", "per_page": 2}).text)
    assert len(first.rows) == 2
    assert first.pager["next"] == "?connector=ezxml&page=2&per_page=2"
    second = client.get("/" + first.pager["next"])
    last = LedgerDom(second.text)
    assert len(last.rows) == 1 and "prev" in last.pager and "next" not in last.pager
    assert set(first.rows) | set(last.rows) == {"2001", "2002", "2003"}


def test_json_has_the_same_rows_and_filters(client):
    body = client.get("/api/orders", params={"connector": "reflecta"}).json()
    assert body["total"] == 3 and body["filters"] == {"connector": "reflecta"}
    orders = {o["internal_order_nr"]: o for o in body["orders"]}
    assert orders["1002"]["error"] == XSS_ERROR and orders["1002"]["state"] == "failed"
    assert orders["1001"]["task_instance"]["url"] == TI_1001
    assert orders["1001"]["task_instance"]["map_index"] == 0
    assert orders["1001"]["sent_at"].endswith("Z")
    assert orders["1003"]["task_instance"] is None
    paged = client.get("/api/orders", params={"per_page": 4, "page": 2}).json()
    assert (paged["page"], paged["pages"], len(paged["orders"])) == (2, 2, 2)


def test_bad_paging_parameters_are_rejected(client):
    assert client.get("/api/orders", params={"per_page": 0}).status_code == 422
    assert client.get("/", params={"page": "x"}).status_code == 422


def test_the_nav_icon_is_served(client):
    response = client.get("/icon.svg")
    assert response.status_code == 200 and response.headers["content-type"] == "image/svg+xml"


def test_without_an_airflow_token_every_route_is_refused(sqlite_engine):
    """Airflow does not guard plugin apps; the ledger's own dependency does (no overrides here)."""
    app = create_app()
    app.dependency_overrides[order_database] = lambda: sqlite_engine
    with TestClient(app) as client:
        for path in ("/", "/api/orders", "/icon.svg"):
            assert client.get(path).status_code == 401, path


def test_the_order_database_is_the_airflow_connection(sqlite_engine, use_engine_as_app4sales_db):
    seed_ledger(sqlite_engine)
    use_engine_as_app4sales_db(sqlite_engine)
    app = create_app()
    app.dependency_overrides[can_read_ledger] = lambda: None
    with TestClient(app) as client:
        assert client.get("/api/orders").json()["total"] == 6


def test_a_missing_connection_is_a_clear_503(monkeypatch):
    from backoffice_export import config

    monkeypatch.setattr(config, "DB_CONN_ID", "no_such_order_database")
    app = create_app()
    app.dependency_overrides[can_read_ledger] = lambda: None
    with TestClient(app) as client:
        response = client.get("/api/orders")
    assert response.status_code == 503
    assert "no_such_order_database" in response.json()["detail"]


def test_waiting_and_failed_orders_show_apart_with_remarks(sqlite_engine, ledger_app, client):
    ids = {r.internal_order_nr: r.order_id for r in export_state.states(sqlite_engine)}
    mark_waiting_and_remarked(sqlite_engine, ids)
    html = client.get("/").text
    dom = LedgerDom(html)
    assert (dom.rows["1003"]["state"], dom.rows["1002"]["state"]) == ("waiting", "failed")
    assert dom.rows["2002"]["remark"] == REMARK and dom.rows["2001"]["remark"] == ""
    assert [v for v, _ in dom.options["state"]] == ["", "sent", "waiting", "failed"]
    assert "waiting (a retry sends it)" in html and "failed (fix the order)" in html
    waiting = LedgerDom(client.get("/", params={"state": "waiting"}).text)
    assert set(waiting.rows) == {"1003"} and selected(waiting, "state") == "waiting"
    orders = {o["internal_order_nr"]: o for o in client.get("/api/orders").json()["orders"]}
    assert (orders["1003"]["state"], orders["1002"]["state"]) == ("waiting", "failed")
    assert orders["2002"]["remark"] == REMARK
