"""Schema of the App4Sales order database, as far as the connectors read and write it.

It holds what any of the five connector seeds reads: administrations with their connector
settings, master data (customers, items, sales reps, price lists), orders with lines,
alternate addresses, payment details and attachments, plus the key settings (sequences) and
the export state this project keeps per order. Column names are documented in
``docs/order-database.md``.

Money, quantities and percentages are ``Decimal``: stored as NUMERIC on PostgreSQL and as text
on SQLite, whose NUMERIC affinity would silently turn them into binary floats.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


class Amount(sa.types.TypeDecorator):
    """A ``Decimal`` that survives the round trip on every dialect."""

    impl = sa.String(40)
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.NUMERIC(24, 8))
        return dialect.type_descriptor(sa.String(40))

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        value = Decimal(value)
        return value if dialect.name == "postgresql" else format(value, "f")

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Decimal | None:
        return _decimal_or_none(value)

    def result_processor(self, dialect: sa.Dialect, coltype: Any) -> Any:
        """``process_result_value`` in one call per value instead of two.

        SQLAlchemy asks decorators not to override this, so that the inner type's processing is
        kept; it is kept here. What it saves: a chunk's order lines carry seven amounts each, and
        the generic wrapper's extra call per amount was a tenth of loading a chunk.
        """
        inner = self.impl_instance.result_processor(dialect, coltype)
        if inner is None:
            return _decimal_or_none
        return lambda value: _decimal_or_none(inner(value))


def _decimal_or_none(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


metadata = sa.MetaData()


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


def _admin_fk() -> sa.Column:
    return sa.Column(
        "administration_id", sa.Integer, sa.ForeignKey("administrations.id", ondelete="CASCADE"),
        nullable=False,
    )


administrations = sa.Table(
    "administrations", metadata, _id(),
    sa.Column("code", sa.String(100), nullable=False, unique=True),
    sa.Column("application_name", sa.String(100), nullable=False),
    sa.Column("connector", sa.String(30), nullable=False),
    sa.Column("connection_id", sa.String(250)),
    sa.Column("settings", sa.JSON, nullable=False, default=dict),
    sa.Column("default_currency", sa.String(3)),
)

price_lists = sa.Table(
    "price_lists", metadata, _id(), _admin_fk(),
    sa.Column("code", sa.String(100), nullable=False),
    sa.Column("currency_iso", sa.String(3)),
    sa.UniqueConstraint("administration_id", "code"),
)

sales_reps = sa.Table(
    "sales_reps", metadata, _id(), _admin_fk(),
    sa.Column("code", sa.String(100), nullable=False),
    sa.Column("user_id", sa.Integer),
    sa.Column("user_name", sa.String(200)),
    sa.Column("full_name", sa.String(200)),
    sa.Column("email", sa.String(200)),
    sa.Column("warehouse", sa.String(100)),
    sa.UniqueConstraint("administration_id", "code"),
)

customers = sa.Table(
    "customers", metadata, _id(), _admin_fk(),
    sa.Column("code", sa.String(100), nullable=False),
    sa.Column("guid", sa.String(36)),
    sa.Column("name", sa.String(300)),
    sa.Column("email", sa.String(300)),
    sa.Column("phone", sa.String(100)),
    sa.Column("address1", sa.String(300)),
    sa.Column("address2", sa.String(300)),
    sa.Column("postal_code", sa.String(30)),
    sa.Column("city", sa.String(200)),
    sa.Column("state", sa.String(200)),
    sa.Column("country_iso2", sa.String(2)),
    sa.Column("price_list_code", sa.String(100)),
    sa.Column("vat_liable", sa.Boolean, nullable=False, default=True),
    sa.Column("extra_data", sa.Text),
    sa.Column("delivery_method", sa.String(300)),
    sa.Column("default_discount", Amount),
    sa.UniqueConstraint("administration_id", "code"),
)

customer_contacts = sa.Table(
    "customer_contacts", metadata, _id(),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    sa.Column("first_name", sa.String(200)),
    sa.Column("last_name", sa.String(200)),
    sa.Column("email", sa.String(300)),
    sa.Column("phone", sa.String(100)),
    sa.Column("is_main", sa.Boolean, nullable=False, default=False),
)

items = sa.Table(
    "items", metadata, _id(), _admin_fk(),
    sa.Column("code", sa.String(100), nullable=False),
    sa.Column("description", sa.String(500)),
    sa.Column("model_description", sa.String(500)),
    sa.Column("ean", sa.String(50)),
    sa.Column("vat_percentage", Amount),
    sa.Column("sales_price", Amount),
    sa.Column("stock", Amount),
    # Backoffice identifiers keyed as the ERPs name them: BackofficeItemCode, ItemDimension,
    # ItemDimensionSize (Reflecta), SbaItemCode and Size (AccountView SBA items).
    sa.Column("extra_data", sa.JSON),
    sa.Column("is_matrix_child", sa.Boolean, nullable=False, default=False),
    sa.Column("matrix_color_description", sa.String(200)),
    sa.Column("matrix_style_number", sa.String(100)),
    sa.Column("matrix_color_sorting", sa.Integer),
    sa.UniqueConstraint("administration_id", "code"),
)

addresses = sa.Table(
    "addresses", metadata, _id(), _admin_fk(),
    sa.Column("guid", sa.String(36)),
    sa.Column("name", sa.String(300)),
    sa.Column("contact", sa.String(300)),
    sa.Column("address1", sa.String(300)),
    sa.Column("address2", sa.String(300)),
    sa.Column("postal_code", sa.String(30)),
    sa.Column("city", sa.String(200)),
    sa.Column("state", sa.String(200)),
    sa.Column("country_iso2", sa.String(2)),
    sa.Column("phone", sa.String(100)),
    sa.Column("email", sa.String(300)),
)

orders = sa.Table(
    "orders", metadata, _id(), _admin_fk(),
    sa.Column("guid", sa.String(36)),
    # App4Sales' own number for the order; unique per administration.
    sa.Column("internal_order_nr", sa.String(50), nullable=False),
    # The number the order is known by in the backoffice (generated or returned by the ERP).
    sa.Column("order_nr", sa.String(50)),
    sa.Column("order_type", sa.String(50)),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id")),
    sa.Column("sales_rep_id", sa.Integer, sa.ForeignKey("sales_reps.id")),
    sa.Column("alternate_address_id", sa.Integer, sa.ForeignKey("addresses.id")),
    sa.Column("order_date", sa.DateTime, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("delivery_date", sa.Date),
    sa.Column("your_reference", sa.String(300)),
    sa.Column("reference", sa.String(300)),
    sa.Column("notes", sa.Text),
    sa.Column("description1", sa.String(500)),
    sa.Column("description2", sa.String(500)),
    sa.Column("description3", sa.String(500)),
    sa.Column("signature", sa.Text),
    sa.Column("delivery_method_code", sa.String(100)),
    sa.Column("consumer_name", sa.String(300)),
    sa.Column("consumer_email", sa.String(300)),
    sa.Column("consumer_phone", sa.String(100)),
    sa.Column("is_dropshipment", sa.Boolean, nullable=False, default=False),
    sa.Column("is_paid", sa.Boolean, nullable=False, default=False),
    sa.Column("prices_include_vat", sa.Boolean, nullable=False, default=False),
    sa.Column("shipping_costs_excl_vat", Amount),
    sa.Column("shipping_costs_incl_vat", Amount),
    sa.Column("total_excl_vat", Amount),
    sa.Column("total_vat", Amount),
    sa.Column("total_incl_vat", Amount),
    sa.Column("webshop_discount_percentage", Amount),
    sa.UniqueConstraint("administration_id", "internal_order_nr"),
)

order_lines = sa.Table(
    "order_lines", metadata, _id(),
    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    sa.Column("line_index", sa.Integer, nullable=False),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id")),
    sa.Column("quantity", Amount, nullable=False),
    sa.Column("quantity_delivered", Amount),
    # Unit price as entered in App4Sales: including VAT when the order's prices include VAT.
    sa.Column("price", Amount),
    sa.Column("price_excl_vat", Amount),
    sa.Column("original_price", Amount),
    sa.Column("discount_percentage", Amount),
    sa.Column("vat_percentage", Amount),
    sa.Column("instruction", sa.Text),
    sa.Column("description", sa.String(500)),
    sa.Column("delivery_date", sa.Date),
    sa.UniqueConstraint("order_id", "line_index"),
)

payment_details = sa.Table(
    "payment_details", metadata,
    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("payment_id", sa.String(200)),
    sa.Column("method", sa.String(100)),
    sa.Column("status", sa.String(100)),
    sa.Column("amount", Amount),
)

attachments = sa.Table(
    "attachments", metadata, _id(),
    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("file_name", sa.String(300), nullable=False),
    sa.Column("description", sa.String(300)),
    sa.Column("content", sa.LargeBinary, nullable=False),
)

key_settings = sa.Table(
    "key_settings", metadata,
    sa.Column("administration_id", sa.Integer, sa.ForeignKey("administrations.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.String(500), nullable=False),
)

export_state = sa.Table(
    "export_state", metadata,
    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("administration_id", sa.Integer, nullable=False, index=True),
    sa.Column("connector", sa.String(30), nullable=False),
    sa.Column("state", sa.String(10), nullable=False, default="pending", index=True),
    sa.Column("retryable", sa.Boolean, nullable=False, default=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("claimed_by", sa.String(500)),
    sa.Column("claim_expires_at", sa.DateTime),
    sa.Column("backoffice_order_nr", sa.String(100)),
    sa.Column("destination", sa.String(1000)),
    sa.Column("error", sa.Text),
    sa.Column("sent_at", sa.DateTime),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    # The task instance that last handled the order, for the ledger's link to its log.
    sa.Column("dag_id", sa.String(250)),
    sa.Column("run_id", sa.String(250)),
    sa.Column("task_id", sa.String(250)),
    sa.Column("map_index", sa.Integer),
    # A number a connector drew for the order before uploading it (EzXml): kept across failed
    # attempts so that a retry reuses the same number and file name instead of drawing another.
    sa.Column("reserved_order_nr", sa.String(100)),
    # How far a delivery in several requests got (AccountView batches), as JSON text: the ERP's
    # order number and the batches it accepted, so a retry resumes instead of sending lines twice.
    sa.Column("progress", sa.Text),
    # The re-export pass (one per run of the extract task with reexport_sent) that last claimed
    # the order: a sent order goes again once per pass, not again when a chunk of it is cleared.
    sa.Column("reexport_pass", sa.String(64)),
    # What the ERP remarked when it took the order (or that it already had it), for the ledger.
    sa.Column("remark", sa.Text),
)

# Which order each file name in a drop folder (Reflecta, EzXml) belongs to. ``destination`` is the
# folder as the export state shows it (``sftp://host:port/folder``), so every administration that
# delivers to that folder shares one set of names, and a name stays taken after the ERP consumed
# the file. ``generated``: the connector drew the number and it has not (possibly) reached the ERP,
# so a failed upload may give it back. No foreign key: a deleted order's name stays taken.
file_names = sa.Table(
    "file_names", metadata,
    sa.Column("destination", sa.String(500), primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("order_id", sa.Integer, nullable=False, index=True),
    sa.Column("generated", sa.Boolean, nullable=False),
)
