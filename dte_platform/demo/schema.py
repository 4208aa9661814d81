"""Public shape of the demo data: columns, statuses and where each source lands."""

from __future__ import annotations

from pathlib import Path

import polars as pl

CRM_CUSTOMER_FIELDS = (
    "customer_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "birth_date",
    "city",
    "country",
    "updated_at",
)
SHOP_CUSTOMER_COLUMNS = (
    "account_id",
    "full_name",
    "email",
    "phone",
    "city",
    "country",
    "signed_up_at",
)
ORDER_COLUMNS = (
    "order_id",
    "account_id",
    "product_id",
    "quantity",
    "unit_price",
    "amount",
    "currency",
    "status",
    "ordered_at",
)
PRODUCT_SCHEMA: dict[str, pl.DataType] = {
    "product_id": pl.String(),
    "name": pl.String(),
    "category": pl.String(),
    "list_price": pl.Float64(),
    "created_at": pl.Datetime("us", "UTC"),
}
GROUND_TRUTH_COLUMNS = ("source_system", "source_key", "entity_id")

ORDER_STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled", "returned")
UNKNOWN_STATUSES = ("SHIPPED?", "lost", "Delivered", "pending_review")
CURRENCY = "EUR"
TIMEZONE = "Europe/Berlin"

CRM_DIR = Path("landing/crm/customers")
SHOP_CUSTOMERS_DIR = Path("landing/shop/customers")
ORDERS_DIR = Path("landing/shop/orders")
PRODUCTS_DIR = Path("landing/shop/products")
GROUND_TRUTH_FILE = Path("ground_truth/customer_entities.csv")
