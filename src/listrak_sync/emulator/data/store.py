"""The Data API's tables: one per entity, keyed by the entity's natural key.

Each record is kept whole (its JSON) next to its key columns, and a later import of the same
key replaces it (an upsert): customers by email (or, on a CRM-enabled account, by
``customerNumber`` when there is one), orders by ``orderNumber`` (their items replaced with
them, keyed by order number and SKU), products by ``sku``, rating summaries by provider and
product, reviews by provider and review id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from ..state import EmulatorState

__all__ = [
    "ENTITIES",
    "SCHEMA",
    "Entity",
    "crm_enabled",
    "dump_data",
    "now",
    "set_crm_enabled",
    "upsert",
]

SCHEMA = """
CREATE SEQUENCE IF NOT EXISTS data_import_id START 60001;
CREATE TABLE IF NOT EXISTS data_import (
    import_id INTEGER PRIMARY KEY DEFAULT nextval('data_import_id'),
    entity VARCHAR NOT NULL,
    received TIMESTAMP NOT NULL,
    records INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS data_customer (
    record_key VARCHAR PRIMARY KEY, import_id INTEGER NOT NULL, doc JSON NOT NULL
);
CREATE TABLE IF NOT EXISTS data_order (
    record_key VARCHAR PRIMARY KEY, import_id INTEGER NOT NULL, doc JSON NOT NULL
);
CREATE TABLE IF NOT EXISTS data_order_item (
    order_number VARCHAR NOT NULL, sku VARCHAR NOT NULL, doc JSON NOT NULL,
    PRIMARY KEY (order_number, sku)
);
CREATE TABLE IF NOT EXISTS data_product (
    record_key VARCHAR PRIMARY KEY, import_id INTEGER NOT NULL, doc JSON NOT NULL
);
CREATE TABLE IF NOT EXISTS data_rating_summary (
    record_key VARCHAR PRIMARY KEY, import_id INTEGER NOT NULL, doc JSON NOT NULL
);
CREATE TABLE IF NOT EXISTS data_review (
    record_key VARCHAR PRIMARY KEY, import_id INTEGER NOT NULL, doc JSON NOT NULL
);
CREATE TABLE IF NOT EXISTS data_settings (name VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
"""


@dataclass(frozen=True)
class Entity:
    name: str  # as in dumps and seeds: "customers"
    table: str
    operation_id: str
    path: str


ENTITIES = {
    entity.name: entity
    for entity in (
        Entity(
            "customers", "data_customer", "Customer_PostCustomerCollection", "/data/v1/Customer"
        ),
        Entity("orders", "data_order", "Order_PostOrderCollection", "/data/v1/Order"),
        Entity("products", "data_product", "Product_PostProductCollection", "/data/v1/Product"),
        Entity(
            "ratingSummaries",
            "data_rating_summary",
            "RatingSummary_PostRatingSummaryCollection",
            "/data/v1/RatingSummary",
        ),
        Entity("reviews", "data_review", "Review_PostReviewCollection", "/data/v1/Review"),
    )
}


def now(state: EmulatorState) -> datetime:
    return datetime.fromtimestamp(state.clock(), UTC).replace(tzinfo=None)


def crm_enabled(state: EmulatorState) -> bool:
    row = state.db.execute("SELECT value FROM data_settings WHERE name = 'crmEnabled'").fetchall()
    return bool(row) and row[0][0] == "true"


def set_crm_enabled(state: EmulatorState, enabled: bool) -> None:
    state.db.execute(
        "INSERT OR REPLACE INTO data_settings VALUES ('crmEnabled', ?)", [str(enabled).lower()]
    )


def upsert(
    state: EmulatorState, entity: Entity, records: list[dict[str, Any]], keys: list[str], at: Any
) -> int:
    """Store checked records under their keys in one transaction; returns the import id."""
    with state.lock, state.cursor() as cur:
        cur.execute("BEGIN TRANSACTION")
        try:
            import_id = cur.execute(
                "INSERT INTO data_import (entity, received, records) VALUES (?, ?, ?) "
                "RETURNING import_id",
                [entity.name, at, len(records)],
            ).fetchall()[0][0]
            rows = pa.table(
                {
                    "record_key": pa.array(keys, pa.string()),
                    "doc": pa.array([json.dumps(r) for r in records], pa.string()),
                }
            )
            cur.register("data_incoming", rows)
            cur.execute(
                f"INSERT OR REPLACE INTO {entity.table} "
                "SELECT record_key, ?, CAST(doc AS JSON) FROM data_incoming",
                [import_id],
            )
            cur.unregister("data_incoming")
            if entity.name == "orders":
                _replace_items(cur, records)
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
    return int(import_id)


def _replace_items(cur: Any, orders: list[dict[str, Any]]) -> None:
    numbers = [order["orderNumber"] for order in orders]
    items = [item for order in orders for item in order.get("items") or []]
    cur.execute(
        "DELETE FROM data_order_item WHERE order_number IN (SELECT unnest(?::VARCHAR[]))",
        [numbers],
    )
    cur.register(
        "data_items",
        pa.table(
            {
                "order_number": pa.array([i["orderNumber"] for i in items], pa.string()),
                "sku": pa.array([i["sku"] for i in items], pa.string()),
                "doc": pa.array([json.dumps(i) for i in items], pa.string()),
            }
        ),
    )
    cur.execute(
        "INSERT INTO data_order_item SELECT order_number, sku, CAST(doc AS JSON) FROM data_items"
    )
    cur.unregister("data_items")


def dump_data(state: EmulatorState, full: bool) -> dict[str, Any]:
    result: dict[str, Any] = {
        "crmEnabled": crm_enabled(state),
        "imports": [
            {"importId": import_id, "entity": entity, "records": records}
            for import_id, entity, records in state.db.execute(
                "SELECT import_id, entity, records FROM data_import ORDER BY 1"
            ).fetchall()
        ],
        "counts": {
            name: state.db.execute(f"SELECT count(*) FROM {entity.table}").fetchall()[0][0]
            for name, entity in ENTITIES.items()
        },
    }
    result["counts"]["orderItems"] = state.db.execute(
        "SELECT count(*) FROM data_order_item"
    ).fetchall()[0][0]
    if full:
        for name, entity in ENTITIES.items():
            result[name] = [
                json.loads(doc)
                for (doc,) in state.db.execute(
                    f"SELECT doc FROM {entity.table} ORDER BY record_key"
                ).fetchall()
            ]
    return result
