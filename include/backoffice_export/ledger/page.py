"""The ledger as one server-rendered HTML page: a filter form, a table, page links.

Every value from the database goes through ``html.escape`` (error texts come from ERPs and
from order data). Filtering and paging are plain GET links and a GET form, so the page works
without JavaScript. One small script only improves the task-instance links when the page sits
inside the Airflow UI's plugin iframe: that iframe is sandboxed without top navigation, so a
plain link would open the Airflow UI *inside* the frame; the script moves the outer UI instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from html import escape
from urllib.parse import urlencode

from backoffice_export.ledger.queries import FilterOptions, LedgerFilter, LedgerPage, LedgerRow

TITLE = "Export ledger"
KNOWN_STATES = {"pending", "claimed", "sent", "waiting", "failed"}
# How the state dropdown and the badges' tooltips explain the two kinds of failure.
STATE_LABELS = {"waiting": "waiting (a retry sends it)", "failed": "failed (fix the order)"}
STATE_HINTS = {"waiting": "Failed for a transient reason (ERP down, connection cut): a retry or the next run sends it",
               "failed": "Failed for good (bad data, refused by the ERP): fix the order, then resend it"}
COLUMNS = ("Administration", "App4Sales order nr", "Connector", "State", "ERP order number", "Destination",
           "Error", "Remark", "Attempts", "Sent at (UTC)", "Task instance")

STYLE = """
:root { color-scheme: light; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", sans-serif;
       margin: 16px; color: #1a202c; background: #fff; }
h1 { font-size: 20px; margin: 0 0 12px; }
form.filters { display: flex; flex-wrap: wrap; gap: 12px; align-items: end; margin-bottom: 12px; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: #4a5568; gap: 2px; }
select, button { font: inherit; padding: 4px 8px; border: 1px solid #cbd5e0; border-radius: 4px; background: #fff; }
button { background: #017cee; color: #fff; border-color: #017cee; cursor: pointer; }
.summary { color: #4a5568; margin: 8px 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid #e2e8f0; }
th { background: #f7fafc; font-weight: 600; white-space: nowrap; position: sticky; top: 0; }
td.num { text-align: right; }
td.error { white-space: pre-wrap; word-break: break-word; min-width: 16em; max-width: 32em; color: #9b2c2c; }
td.destination { word-break: break-all; max-width: 24em; }
.muted { color: #718096; font-size: 12px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.state-pending { background: #edf2f7; color: #4a5568; }
.state-claimed { background: #ebf8ff; color: #2b6cb0; }
.state-sent { background: #f0fff4; color: #276749; }
.state-waiting { background: #fffaf0; color: #c05621; }
.state-failed { background: #fff5f5; color: #c53030; }
td.remark { white-space: pre-wrap; word-break: break-word; max-width: 24em; color: #744210; }
.state-other { background: #fefcbf; color: #744210; }
nav.pages { display: flex; gap: 12px; align-items: center; margin: 12px 0; }
a { color: #0366d6; }
"""

# Only for links marked data-airflow-ui, only inside a same-origin frame, only a plain left click;
# anything else (no JS, a new tab, the page opened on its own) follows the href as usual.
SCRIPT = """
document.addEventListener("click", function (event) {
  var link = event.target.closest ? event.target.closest("a[data-airflow-ui]") : null;
  if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
  try {
    var outer = window.top;
    if (outer === window || outer.location.origin !== window.location.origin) return;
    outer.history.pushState(null, "", link.href);
    outer.dispatchEvent(new PopStateEvent("popstate", {state: null}));
    event.preventDefault();
  } catch (e) { /* the plain link still works */ }
});
"""


def _text(value: object) -> str:
    return "" if value is None else escape(str(value))


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


def _query(filters: LedgerFilter, **extra: object) -> str:
    return "?" + urlencode({**filters.as_params(), **{k: v for k, v in extra.items() if v is not None}})


def _select(name: str, label: str, everything: str, values: Iterable[str], current: str | None,
            labels: dict[str, str] | None = None) -> str:
    values = list(values)
    if current is not None and current not in values:
        values.append(current)  # keep a filter the data no longer holds visible, so it can be cleared
    options = [f'<option value=""{" selected" if current is None else ""}>{escape(everything)}</option>']
    for value in values:
        selected = " selected" if value == current else ""
        text = (labels or {}).get(value, value)
        options.append(f'<option value="{escape(value)}"{selected}>{escape(text)}</option>')
    return (f'<label>{escape(label)}<select name="{name}" id="filter-{name}">'
            + "".join(options) + "</select></label>")


def _task_instance_cell(row: LedgerRow, ui_root: str) -> str:
    path = row.task_instance_path
    if path is None:
        return '<td class="ti"></td>'
    label = row.task_id if row.map_index is None or row.map_index < 0 else f"{row.task_id} [{row.map_index}]"
    href = f"{ui_root}/{path}"
    return (f'<td class="ti"><a data-airflow-ui href="{escape(href)}" title="{_text(row.dag_id)}">'
            f'{_text(label)}</a><div class="muted">{_text(row.run_id)}</div></td>')


def _row(row: LedgerRow, ui_root: str) -> str:
    state_class = f"state-{row.state}" if row.state in KNOWN_STATES else "state-other"
    hint = f' title="{escape(STATE_HINTS[row.state])}"' if row.state in STATE_HINTS else ""
    cells = [
        f'<td class="administration">{_text(row.administration)}</td>',
        f'<td class="order-nr">{_text(row.internal_order_nr)}</td>',
        f'<td class="connector">{_text(row.connector)}</td>',
        f'<td class="state"><span class="badge {state_class}"{hint}>{_text(row.state)}</span></td>',
        f'<td class="erp-order-nr">{_text(row.backoffice_order_nr)}</td>',
        f'<td class="destination">{_text(row.destination)}</td>',
        f'<td class="error">{_text(row.error)}</td>',
        f'<td class="remark">{_text(row.remark)}</td>',
        f'<td class="num attempts">{row.attempts}</td>',
        f'<td class="sent-at">{_when(row.sent_at)}</td>',
        _task_instance_cell(row, ui_root),
    ]
    return f'<tr data-order-id="{row.order_id}">' + "".join(cells) + "</tr>"


def _pager(page: LedgerPage, filters: LedgerFilter) -> str:
    def link(label: str, number: int, rel: str) -> str:
        if number == page.page or not 1 <= number <= page.pages:
            return f'<span class="muted">{label}</span>'
        return f'<a rel="{rel}" href="{escape(_query(filters, page=number, per_page=page.per_page))}">{label}</a>'

    return (f'<nav class="pages">{link("&laquo; first", 1, "first")}{link("&lsaquo; previous", page.page - 1, "prev")}'
            f'<span>page {page.page} of {page.pages}</span>'
            f'{link("next &rsaquo;", page.page + 1, "next")}{link("last &raquo;", page.pages, "last")}</nav>')


def render_ledger(page: LedgerPage, filters: LedgerFilter, options: FilterOptions, *, ui_root: str = "") -> str:
    """The whole page. ``ui_root`` is the Airflow UI's base path ("" or e.g. "/airflow")."""
    first = (page.page - 1) * page.per_page + 1 if page.total else 0
    last = (page.page - 1) * page.per_page + len(page.rows)
    head = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS)
    body = "".join(_row(row, ui_root) for row in page.rows) or (
        f'<tr><td colspan="{len(COLUMNS)}" class="muted">No orders match these filters.</td></tr>')
    json_link = escape("api/orders" + _query(filters, page=page.page, per_page=page.per_page))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{TITLE}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>{TITLE}</h1>
<form class="filters" method="get" id="filters">
{_select("administration", "Administration", "All administrations", options.administrations, filters.administration)}
{_select("connector", "Connector", "All connectors", options.connectors, filters.connector)}
{_select("state", "State", "All states", options.states, filters.state, STATE_LABELS)}
<input type="hidden" name="per_page" value="{page.per_page}">
<button type="submit">Filter</button>
<a href="?">Clear filters</a>
</form>
<p class="summary" id="summary">{page.total} orders; showing {first}&ndash;{last}.
 <a href="{json_link}">JSON</a></p>
<table id="ledger">
<thead><tr>{head}</tr></thead>
<tbody>
{body}
</tbody>
</table>
{_pager(page, filters)}
<script>{SCRIPT}</script>
</body>
</html>
"""
