"""Which source column feeds which Listrak column, and the SQL that reads a data set.

Explicit mappings win. Otherwise a Listrak column takes the source column with the same name
once case and underscores are ignored (``customer_number`` feeds ``customernumber``), then the
first present synonym below, so the sample data and most retail schemas need no mapping at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import pyarrow as pa

from ..config.datasets import Dataset
from ..config.files import DatasetSource
from ..errors import ListrakSyncError

__all__ = ["MappingError", "rename_batches", "resolve_mapping", "source_sql"]

SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": ("email_address", "emailaddress"),
    "customernumber": ("customer_id", "customerid", "customer_key"),
    "mobilephone": ("phone", "phone_number", "mobile", "cell_phone", "sms_phone"),
    "birthday": ("birth_date", "birthdate", "date_of_birth", "dob"),
    "firstname": ("first_name", "given_name"),
    "lastname": ("last_name", "family_name", "surname"),
    "address1": ("address", "address_line1", "street"),
    "address2": ("address_line2",),
    "address3": ("address_line3",),
    "state": ("region", "province", "state_code"),
    "zipcode": ("zip", "postal_code", "postcode"),
    "country": ("country_code",),
    "preferredstorenumber": ("preferred_store", "store_id", "home_store"),
    "registered": ("has_account", "is_registered"),
    "title": ("name", "product_name"),
    "imageurl": ("image", "image_link"),
    "linkurl": ("url", "product_url", "link"),
    "mastersku": ("parent_sku", "master_sku", "product_id"),
    "qoh": ("quantity_on_hand", "inventory", "stock"),
    "instock": ("in_stock", "available"),
    "onsale": ("on_sale",),
    "salestartdate": ("sale_start", "sale_start_at"),
    "ordernumber": ("order_id", "order_no"),
    "alternateordernumber": ("alternate_order_id", "oms_order_id"),
    "dateentered": ("order_date", "ordered_at", "created_at", "order_datetime"),
    "itemtotal": ("subtotal", "line_total"),
    "shippingtotal": ("shipping", "shipping_amount"),
    "handlingtotal": ("handling",),
    "taxtotal": ("tax", "tax_amount"),
    "merchandisediscount": ("discount", "discount_total"),
    "ordertotal": ("total", "order_amount", "grand_total"),
    "status": ("item_status", "order_status"),
    "quantity": ("qty",),
    "price": ("unit_price", "list_price"),
    "discountedprice": ("discounted_unit_price", "net_price"),
    "itemdiscounttotal": ("line_discount", "discount_amount"),
    "shipdate": ("shipped_at", "ship_date"),
}


class MappingError(ListrakSyncError, ValueError):
    """A mapping names a Listrak or source column that does not exist."""


def _norm(name: str) -> str:
    return name.lower().replace("_", "")


def resolve_mapping(
    dataset: Dataset, source_columns: Iterable[str], explicit: Mapping[str, str]
) -> dict[str, str]:
    """Listrak column -> source column, for every Listrak column that has a source."""
    present = list(source_columns)
    unknown = sorted(set(explicit) - set(dataset.column_names))
    if unknown:
        raise MappingError(f"{dataset.name}: no Listrak column named {', '.join(unknown)}")
    missing = sorted(v for v in explicit.values() if v not in present)
    if missing:
        raise MappingError(f"{dataset.name}: source has no column {', '.join(missing)}")
    by_norm = {_norm(c): c for c in reversed(present)}  # first spelling wins
    used = set(explicit.values())
    mapping = dict(explicit)
    for name in dataset.column_names:
        if name in mapping:
            continue
        for candidate in (name, *SYNONYMS.get(name, ())):
            found = by_norm.get(_norm(candidate))
            if found is not None and found not in used:
                mapping[name] = found
                used.add(found)
                break
    return mapping


def source_sql(dataset: Dataset, source: DatasetSource) -> str:
    """The query that reads a data set: the configured query, or the whole table."""
    if source.query:
        return source.query
    table = source.table or dataset.default_table
    return f"SELECT * FROM {table}"


def rename_batches(
    batches: Iterable[pa.RecordBatch], mapping: Mapping[str, str]
) -> Iterator[pa.RecordBatch]:
    """Batches with only the mapped columns, under their Listrak names."""
    for batch in batches:
        arrays = [batch.column(source) for source in mapping.values()]
        yield pa.RecordBatch.from_arrays(arrays, names=list(mapping))
