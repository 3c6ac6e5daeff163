"""Listrak's four import data sets: columns, types, limits and how each maps to the Data API.

Restated from docs/explanation/listrak-data-files.md (§2, §3). Every column carries where its name
came from: ``seen`` means Listrak's schema page printed the column name; ``inferred`` means the
page showed the attribute (type, length, example) but not the column name, which we derive by
lowercasing the Data API field name, as every visible name does. Columns past the point where
each page was cut off (customer meta, order shipping/status, the product sale-end fields ...)
are known only from the API spec and are not written to files (§2, "not seen").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DATASETS",
    "DATASET_NAMES",
    "DISCOUNT_TYPES",
    "STATUS_CODES",
    "Column",
    "ColumnKind",
    "Dataset",
    "DatasetName",
    "Origin",
]

DatasetName = Literal["customers", "products", "orders", "order_items"]
DATASET_NAMES: tuple[DatasetName, ...] = ("customers", "products", "orders", "order_items")

ColumnKind = Literal[
    "string",
    "email",
    "phone",
    "date",
    "datetime",
    "decimal",
    "integer",
    "boolean",
    "gender",
    "state",
    "country",
    "discount_type",
    "status",
    "url",
    "title",
]
Origin = Literal["seen", "inferred"]

# §2.5: the 18 discount type names; the API adds NotSet, which the file writes as empty.
DISCOUNT_TYPES: tuple[str, ...] = (
    "PriceOverride",
    "PriceRule",
    "Promotion",
    "SeniorCitizen",
    "Markdown",
    "Coupon",
    "QuantityDiscount",
    "Rebate",
    "CashDiscount",
    "TradeDiscount",
    "TradeInKind",
    "PromptPaymentDiscount",
    "GeneralDiscount",
    "GiftVoucher",
    "FlexibleDiscount",
    "RewardProgram",
    "ManufacturerReward",
    "CreditCardReward",
)

# §2.5: file status codes 0-11 by name. `Closed` exists only in the API enum.
STATUS_CODES: tuple[str, ...] = (
    "NotSet",
    "Misc",
    "PreOrder",
    "BackOrder",
    "Pending",
    "Hold",
    "Processing",
    "Shipped",
    "Completed",
    "Returned",
    "Canceled",
    "Unknown",
)


@dataclass(frozen=True)
class Column:
    """One file column and its Data API counterpart.

    ``max_length`` is the file limit and ``api_max_length`` the API's when it differs (the API
    path validates against the stricter of the two, §3.5). ``api_field`` is a dotted path for
    nested fields (``address.city``); ``None`` means the column has no API field.
    """

    name: str
    kind: ColumnKind
    origin: Origin
    api_field: str | None
    max_length: int | None = None
    api_max_length: int | None = None
    required: bool = False


@dataclass(frozen=True)
class Dataset:
    """One Listrak data file: its default file name, columns, key and API resource."""

    name: DatasetName
    file_name: str  # with a {date} token
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # unique within a file
    api_resource: Literal["Customer", "Order", "Product"] | None  # items travel inside Order
    default_table: str

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


def _c(
    name: str,
    kind: ColumnKind,
    origin: Origin,
    api: str | None,
    max_length: int | None = None,
    api_max: int | None = None,
    *,
    required: bool = False,
) -> Column:
    return Column(name, kind, origin, api, max_length, api_max, required)


CUSTOMERS = Dataset(
    name="customers",
    file_name="Listrak_Customer_{date}.csv",  # no "_Feed" in this one (§1.2)
    columns=(
        _c("email", "email", "seen", "email", 100, required=True),
        _c("customernumber", "string", "seen", "customerNumber", 20),
        _c("mobilephone", "phone", "seen", "mobilePhone", None, 50),
        _c("birthday", "date", "seen", "birthday", 10),
        _c("gender", "gender", "seen", "gender", 1),
        _c("firstname", "string", "seen", "firstName", 50),
        _c("lastname", "string", "inferred", "lastName", 50),
        _c("address1", "string", "inferred", "address.address1", 255, 100),
        _c("address2", "string", "inferred", "address.address2", 255, 100),
        _c("address3", "string", "inferred", "address.address3", 255, 100),
        _c("city", "string", "inferred", "address.city", 40),
        _c("state", "state", "inferred", "address.state", 3),
        # The column name may be `zip` instead (§2.1 #13); the API field is top-level zipCode.
        _c("zipcode", "string", "inferred", "zipCode", 20),
        _c("country", "country", "inferred", "address.country", 2),
        _c("preferredstorenumber", "string", "inferred", "preferredStoreNumber", 100),
        _c("registered", "boolean", "inferred", "registered"),
    ),
    key=("email",),
    api_resource="Customer",
    default_table="merged_customers",
)

PRODUCTS = Dataset(
    name="products",
    file_name="Listrak_Product_Feed_{date}.csv",
    columns=(
        _c("sku", "string", "seen", "sku", 100, required=True),
        _c("title", "title", "seen", "title", 500),
        _c("price", "decimal", "seen", "price"),
        _c("description", "string", "inferred", "description", 4000),
        _c("imageurl", "url", "inferred", "imageUrl", 500),
        _c("linkurl", "url", "inferred", "linkUrl", 500),
        _c("brand", "string", "inferred", "brand", 50),
        _c("category", "string", "inferred", "category", 50),
        _c("subcategory", "string", "inferred", "subCategory", 50),
        _c("mastersku", "string", "inferred", "masterSku", 100),
        _c("qoh", "integer", "inferred", "qoh"),
        _c("instock", "boolean", "inferred", "inStock"),
        _c("onsale", "boolean", "inferred", "onSale"),
        _c("salestartdate", "datetime", "inferred", "saleStartDate"),
    ),
    key=("sku",),
    api_resource="Product",
    default_table="products",
)

ORDERS = Dataset(
    name="orders",
    file_name="Listrak_Order_Feed_{date}.csv",
    columns=(
        # Required, but alternateordernumber may stand in for it (§2.3); checked in rules.
        _c("ordernumber", "string", "seen", "orderNumber", 50),
        _c("alternateordernumber", "string", "seen", None, 50),
        _c("dateentered", "datetime", "seen", "dateEntered"),
        _c("email", "email", "seen", "email", 100),
        _c("customernumber", "string", "inferred", "customerNumber", 20),
        _c("itemtotal", "decimal", "inferred", "itemTotal"),
        _c("shippingtotal", "decimal", "inferred", "shippingTotal"),
        _c("handlingtotal", "decimal", "inferred", "handlingTotal"),
        _c("taxtotal", "decimal", "inferred", "taxTotal"),
        _c("merchandisediscount", "decimal", "inferred", "merchandiseDiscount"),
        _c("nonmerchandisediscount", "decimal", "inferred", "nonMerchandiseDiscount"),
        _c("ordertotal", "decimal", "inferred", "orderTotal"),
        _c("merchandisediscounttype", "discount_type", "inferred", "merchandiseDiscountType"),
        # The page was cut off before this column's max length; the API sets none either.
        _c(
            "merchandisediscountdescription", "string", "inferred", "merchandiseDiscountDescription"
        ),
    ),
    key=("ordernumber",),
    api_resource="Order",
    default_table="orders",
)

ORDER_ITEMS = Dataset(
    name="order_items",
    file_name="Listrak_OrderItem_Feed_{date}.csv",
    columns=(
        _c("ordernumber", "string", "seen", "orderNumber", 50),
        _c("alternateordernumber", "string", "seen", None, 50),
        _c("sku", "string", "seen", "sku", 100, required=True),
        _c("status", "status", "seen", "status"),
        _c("quantity", "integer", "inferred", "quantity"),
        _c("price", "decimal", "inferred", "price"),
        _c("discountedprice", "decimal", "inferred", "discountedPrice"),
        _c("itemdiscounttotal", "decimal", "inferred", "itemDiscountTotal"),
        _c("itemtotal", "decimal", "inferred", "itemTotal"),
        _c("discounttype", "discount_type", "inferred", "discountType"),
        _c("discountdescription", "string", "inferred", "discountDescription", 100),
        _c("shipdate", "datetime", "inferred", "shipDate"),
    ),
    # (ordernumber, sku) uniqueness is the schema document's recommendation, not Listrak's (§2.4).
    key=("ordernumber", "sku"),
    api_resource=None,
    default_table="order_items",
)

DATASETS: dict[DatasetName, Dataset] = {
    d.name: d for d in (CUSTOMERS, PRODUCTS, ORDERS, ORDER_ITEMS)
}
