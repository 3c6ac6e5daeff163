"""The SQL that generates the sample tables inside DuckDB.

Every random choice is a hash of (row key, purpose, seed) turned into a number, so a value
depends only on its row and the seed: the output is the same whatever the thread count or
chunk order, and no Python loop touches a row. Stages are materialised as TEMP tables (_p clean
identities, _c messy customers, _o orders, _i order lines) because DuckDB inlines macros and
select-list aliases: stacking them in one statement multiplies the expression it has to bind.
Final tables keep the row order of their stage (or sort by key), so reruns are identical row
for row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from .vocabulary import (
    ADJECTIVES,
    BRANDS,
    CITIES,
    COLORS,
    EMAIL_DOMAINS,
    FEMALE_NAMES,
    LAST_NAMES,
    MALE_NAMES,
    STREET_SUFFIXES,
    STREETS,
    SUBCATEGORIES,
)

__all__ = ["TABLES", "cleanup", "product_count", "statements"]

# In the order they are created; also the order of the CLI's summary.
TABLES = (
    "products",
    "order_items",
    "orders",
    "customer_360",
    "merged_customers",
    "sms_opt_status",
    "email_opt_status",
)
_COUNTRIES = ("US", "CA", "GB", "AU")
_COUNTRY_SHARE = (0.85, 0.93, 0.97)  # cumulative: US 85 %, CA 8 %, GB 4 %, AU 3 %
_ORDERS_PER_CUSTOMER = 64  # order_id = customer index * 64 + order number
_LINES_PER_ORDER = 16


def product_count(customers: int) -> int:
    """Catalog size: one product per 50 customers, between 100 and 20,000."""
    return max(100, min(20_000, customers // 50))


def _str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _list(values: Iterable[str | None]) -> str:
    return "[" + ", ".join("NULL" if v is None else _str(v) for v in values) + "]"


def _nested(values: Iterable[Iterable[str]]) -> str:
    return "[" + ", ".join(_list(v) for v in values) + "]"


def _macros(seed: int, as_of: date) -> list[str]:
    subs = len(SUBCATEGORIES)
    lows = [s.price_low for s in SUBCATEGORIES]
    spans = [s.price_high - s.price_low + 1 for s in SUBCATEGORIES]
    return [
        # u: uniform [0, 1); n: integer [0, n); pick: an element of a list.
        f"CREATE OR REPLACE TEMP MACRO _u(k, salt) AS "
        f"hash(k::BIGINT, salt, {seed}::BIGINT)::DOUBLE / 18446744073709551616.0",
        f"CREATE OR REPLACE TEMP MACRO _n(k, salt, n) AS "
        f"(hash(k::BIGINT, salt, {seed}::BIGINT) % (n)::UBIGINT)::BIGINT",
        "CREATE OR REPLACE TEMP MACRO _pick(xs, k, salt) AS xs[1 + _n(k, salt, len(xs))]",
        f"CREATE OR REPLACE TEMP MACRO _as_of() AS DATE '{as_of.isoformat()}'",
        """CREATE OR REPLACE TEMP MACRO _slug(s) AS
            regexp_replace(lower(strip_accents(s)), '[^a-z0-9]', '', 'g')""",
        # One of eight ways people type a number (f picks), per country.
        """CREATE OR REPLACE TEMP MACRO _phone_format(nsn, country, f) AS CASE
            WHEN country IN (0, 1) THEN CASE f
                WHEN 0 THEN '+1 (' || nsn[1:3] || ') ' || nsn[4:6] || '-' || nsn[7:10]
                WHEN 1 THEN nsn[1:3] || '.' || nsn[4:6] || '.' || nsn[7:10]
                WHEN 2 THEN '(' || nsn[1:3] || ') ' || nsn[4:6] || '-' || nsn[7:10]
                WHEN 3 THEN nsn
                WHEN 4 THEN '1-' || nsn[1:3] || '-' || nsn[4:6] || '-' || nsn[7:10]
                WHEN 5 THEN '+1' || nsn
                WHEN 6 THEN nsn[1:3] || '-' || nsn[4:6] || '-' || nsn[7:10]
                ELSE '+1 ' || nsn[1:3] || ' ' || nsn[4:6] || ' ' || nsn[7:10] END
            WHEN country = 2 THEN CASE f
                WHEN 1 THEN '+44 ' || _uk_groups(nsn)
                WHEN 2 THEN '0044 ' || _uk_groups(nsn)
                WHEN 3 THEN '+44 (0)' || _uk_groups(nsn)
                WHEN 4 THEN '44' || nsn
                WHEN 5 THEN '0' || nsn
                WHEN 6 THEN '+44' || nsn
                ELSE '0' || _uk_groups(nsn) END
            ELSE CASE f
                WHEN 0 THEN '(0' || nsn[1] || ') ' || nsn[2:5] || ' ' || nsn[6:9]
                WHEN 1 THEN '+61 ' || nsn[1] || ' ' || nsn[2:5] || ' ' || nsn[6:9]
                WHEN 2 THEN '0' || nsn[1] || ' ' || nsn[2:5] || ' ' || nsn[6:9]
                WHEN 3 THEN '0061 ' || nsn[1] || ' ' || nsn[2:5] || ' ' || nsn[6:9]
                WHEN 4 THEN '0' || nsn
                WHEN 5 THEN '+61' || nsn
                WHEN 6 THEN '61' || nsn
                ELSE '0011 61 ' || nsn[1] || ' ' || nsn[2:5] || ' ' || nsn[6:9] END END""",
        """CREATE OR REPLACE TEMP MACRO _uk_groups(nsn) AS CASE
            WHEN nsn[1] = '7' THEN nsn[1:4] || ' ' || nsn[5:10]
            WHEN nsn[1] = '2' THEN nsn[1:2] || ' ' || nsn[3:6] || ' ' || nsn[7:10]
            ELSE nsn[1:3] || ' ' || nsn[4:6] || ' ' || nsn[7:10] END""",
        # -- products, as functions of the product index p (four colour variants a style) ---
        "CREATE OR REPLACE TEMP MACRO _style(p) AS p // 4",
        f"CREATE OR REPLACE TEMP MACRO _sub(p) AS _n(_style(p), 'subcategory', {subs})",
        f"""CREATE OR REPLACE TEMP MACRO _color(p) AS
            {_list(COLORS)}[1 + (_n(_style(p), 'color', {len(COLORS)}) + p % 4) % {len(COLORS)}]""",
        "CREATE OR REPLACE TEMP MACRO _sku(p) AS "
        "(1000000 + _style(p))::VARCHAR || '-' || lower(_color(p))",
        f"""CREATE OR REPLACE TEMP MACRO _price(p) AS (
            {lows}[1 + _sub(p)] + _n(_style(p), 'price', {spans}[1 + _sub(p)]) - 0.01
            )::DECIMAL(12, 2)""",
    ]


def _people(n: int) -> str:
    """One row per customer index with its clean identity (``_p``). Kept apart from the messy
    customer rows so a household member's email or phone is a join on the index, and so each
    expression is bound once (DuckDB inlines macros and select-list aliases)."""
    by_country = [[i for i, c in enumerate(CITIES) if c.country == cc] for cc in _COUNTRIES]
    first_city = [ids[0] for ids in by_country]
    city_count = [len(ids) for ids in by_country]
    us, ca, gb = _COUNTRY_SHARE
    dial = _nested(c.dial for c in CITIES)
    return f"""
CREATE OR REPLACE TEMP TABLE _p AS
SELECT
    i, country_slot, city_slot, female, first, last,
    CASE _n(i, 'local', 4)
        WHEN 0 THEN fs || '.' || ls WHEN 1 THEN fs || ls
        WHEN 2 THEN left(fs, 1) || '.' || ls ELSE fs || '_' || ls END
    || CASE WHEN _u(i, 'numbered') < 0.9 THEN (10 + _n(i, 'number', 9990))::VARCHAR ELSE '' END
    || '@' || _pick({_list(EMAIL_DOMAINS)}, i, 'domain') AS email,
    -- national significant number (no trunk 0) of the customer's fictional phone
    CASE WHEN country_slot = 2 AND _u(i, 'mobile') < 0.7
             THEN '7700900' || lpad(_n(i, 'line', 1000)::VARCHAR, 3, '0')
         WHEN country_slot = 2
             THEN {dial}[1 + city_slot][1] || lpad(_n(i, 'line', 1000)::VARCHAR, 3, '0')
         ELSE _pick({dial}[1 + city_slot], i, 'area')
              || lpad(_n(i, 'line', 10000)::VARCHAR, 4, '0') END AS phone_nsn
FROM (
    SELECT *, _slug(first) AS fs, _slug(last) AS ls
    FROM (
        SELECT i, country_slot, female,
            {first_city}[1 + country_slot] + _n(i, 'city', {city_count}[1 + country_slot])
                AS city_slot,
            CASE WHEN female THEN _pick({_list(FEMALE_NAMES)}, i, 'first')
                 ELSE _pick({_list(MALE_NAMES)}, i, 'first') END AS first,
            _pick({_list(LAST_NAMES)}, i, 'last') AS last
        FROM (
            SELECT range AS i, _u(range, 'sex') < 0.5 AS female,
                CASE WHEN _u(range, 'country') < {us} THEN 0
                     WHEN _u(range, 'country') < {ca} THEN 1
                     WHEN _u(range, 'country') < {gb} THEN 2 ELSE 3 END AS country_slot
            FROM range({n})
        )
    )
)
"""


def _customers(n: int) -> str:
    """The customer rows as a CRM holds them (``_c``): typed by people, so messy."""
    cities = CITIES
    uk_letters = _list("ABDEFGHJLNPQRSTUWXYZ")
    ca_letters = _list("ABCEGHJKLMNPRSTVWXYZ")
    return f"""
CREATE OR REPLACE TEMP TABLE _c AS
SELECT
    i, customer_id, country_slot, city_slot, phone_kind, owner_nsn AS phone_nsn,
    CASE WHEN _u(i, 'first_null') < 0.02 THEN NULL
         WHEN _u(i, 'name_case') < 0.03 THEN upper(first)
         WHEN _u(i, 'name_case') < 0.05 THEN lower(first)
         WHEN _u(i, 'name_case') < 0.06 THEN ' ' || first || ' '
         ELSE first END AS first_name,
    CASE WHEN _u(i, 'last_null') < 0.01 THEN NULL
         WHEN _u(i, 'name_case') < 0.03 THEN upper(last)
         ELSE last END AS last_name,
    -- 5 % missing, 3 % malformed, 3 % a household member's address, then case noise
    CASE WHEN _u(i, 'email') < 0.05 THEN NULL
         WHEN _u(i, 'email') < 0.08 THEN CASE _n(i, 'bad_email', 9)
             WHEN 0 THEN replace(own_email, '@', ' at ')
             WHEN 1 THEN replace(own_email, '@', '')
             WHEN 2 THEN split_part(own_email, '@', 1) || '@'
             WHEN 3 THEN regexp_replace(own_email, '\\.[a-z]+$', '')
             WHEN 4 THEN replace(own_email, '@', '@@')
             WHEN 5 THEN regexp_replace(own_email, '\\.([a-z]+)$', ',\1')
             WHEN 6 THEN 'n/a'
             WHEN 7 THEN ''
             ELSE own_email || '.' END
         WHEN _u(i, 'email_case') < 0.10 THEN upper(left(base_email, 1)) || substr(base_email, 2)
         WHEN _u(i, 'email_case') < 0.13 THEN upper(base_email)
         WHEN _u(i, 'email_case') < 0.15 THEN ' ' || base_email || ' '
         ELSE base_email END AS email,
    CASE phone_kind
        WHEN 'missing' THEN NULL
        WHEN 'invalid' THEN _pick(['555-0123', '000-000-0000', '12345', 'N/A', 'none',
            '1234567890123456', '+1 (555) 555-5555', '999', 'call me', '(000) 000-0000'],
            i, 'bad_phone')
        ELSE CASE WHEN _u(i, 'phone_pad') < 0.01 THEN ' ' ELSE '' END
            || _phone_format(owner_nsn, owner_country, _n(i, 'phone_format', 8))
            || CASE WHEN _u(i, 'phone_ext') < 0.01
                    THEN ' ext. ' || (10 + _n(i, 'ext', 90))::VARCHAR ELSE '' END
    END AS phone,
    CASE WHEN _u(i, 'street_null') < 0.04 THEN NULL
         ELSE (1 + _n(i, 'house', 9999))::VARCHAR || ' ' || _pick({_list(STREETS)}, i, 'street')
              || ' ' || _pick({_list(STREET_SUFFIXES)}, i, 'street_suffix') END AS address_line1,
    CASE WHEN _u(i, 'line2') < 0.08
         THEN _pick(['Apt ', 'Suite ', 'Unit ', '#'], i, 'line2_kind')
              || (1 + _n(i, 'line2_number', 400))::VARCHAR END AS address_line2,
    {_list(c.name for c in cities)}[1 + city_slot] AS city,
    CASE WHEN _u(i, 'state_case') < 0.03 THEN lower(state_code) ELSE state_code END AS state,
    CASE WHEN _u(i, 'postal_null') < 0.02 THEN NULL
         WHEN country_slot = 0 THEN CASE
             WHEN zip[1] = '0' AND _u(i, 'zip_mangled') < 0.3 THEN ltrim(zip, '0')
             WHEN _u(i, 'zip4') < 0.05
                 THEN zip || '-' || lpad(_n(i, 'zip4_digits', 10000)::VARCHAR, 4, '0')
             ELSE zip END
         WHEN country_slot = 1 THEN CASE
             WHEN _u(i, 'postal_case') < 0.05 THEN lower(ca_postal)
             WHEN _u(i, 'postal_case') < 0.15 THEN replace(ca_postal, ' ', '')
             ELSE ca_postal END
         WHEN country_slot = 2 THEN postal_prefix || ' ' || _n(i, 'uk0', 10)::VARCHAR
              || _pick({uk_letters}, i, 'uk1') || _pick({uk_letters}, i, 'uk2')
         ELSE postal_prefix END AS postal_code,
    CASE WHEN _u(i, 'country_text') < 0.03
             THEN ['USA', 'Canada', 'UK', 'Australia'][1 + country_slot]
         WHEN _u(i, 'country_text') < 0.05 THEN lower({_list(_COUNTRIES)}[1 + country_slot])
         ELSE {_list(_COUNTRIES)}[1 + country_slot] END AS country,
    CASE WHEN _u(i, 'birthday') < 0.15 THEN NULL
         WHEN _u(i, 'birthday') < 0.153 THEN DATE '1900-01-01'  -- a placeholder some POS use
         ELSE _as_of() - (18 * 365 + _n(i, 'age', 62 * 365))::INTEGER END AS birthday,
    CASE WHEN _u(i, 'gender') < 0.20 THEN NULL
         WHEN _u(i, 'gender') < 0.23 THEN 'N'
         WHEN female THEN 'F' ELSE 'M' END AS gender,
    signup_date,
    _u(i, 'registered') < 0.7 AS registered,
    _u(i, 'loyalty') < 0.55 AS loyalty_member,
    CASE WHEN _u(i, 'store') < 0.4 THEN NULL
         ELSE 'ST' || lpad((city_slot * 3 + 1 + _n(i, 'store_n', 3))::VARCHAR, 4, '0')
    END AS preferred_store,
    CASE WHEN _u(i, 'channel') < 0.55 THEN 'online'
         WHEN _u(i, 'channel') < 0.88 THEN 'store' ELSE 'app' END AS preferred_channel,
    _pick(['ecommerce', 'pos', 'crm', 'loyalty'], i, 'source') AS source_system,
    signup_date::TIMESTAMP + to_seconds(_n(i, 'created_s', 86400)) AS created_at,
    CASE WHEN _u(i, 'buyer') < 0.25 THEN 0
         ELSE least({_ORDERS_PER_CUSTOMER - 1},
                    1 + floor(-ln(1 - _u(i, 'orders')) * 2.0))::INTEGER END AS order_count
FROM (
    SELECT p.*, 'C' || lpad(p.i::VARCHAR, 8, '0') AS customer_id,
        p.email AS own_email, e.email AS base_email,
        ph.phone_nsn AS owner_nsn, ph.country_slot AS owner_country,
        {_list(c.state for c in cities)}[1 + p.city_slot] AS state_code,
        _pick({_nested(c.postal for c in cities)}[1 + p.city_slot], p.i, 'postal')
            AS postal_prefix,
        postal_prefix || lpad(_n(p.i, 'zip', 100)::VARCHAR, 2, '0') AS zip,
        postal_prefix || ' ' || _n(p.i, 'ca1', 10)::VARCHAR || _pick({ca_letters}, p.i, 'ca2')
            || _n(p.i, 'ca3', 10)::VARCHAR AS ca_postal,
        _as_of() - (1 + floor(2920 * pow(_u(p.i, 'signup'), 1.2)))::INTEGER AS signup_date,
        CASE WHEN _u(p.i, 'phone') < 0.025 THEN 'shared'
             WHEN _u(p.i, 'phone') < 0.105 THEN 'missing'
             WHEN _u(p.i, 'phone') < 0.135 THEN 'invalid'
             ELSE 'own' END AS phone_kind
    FROM (
        SELECT *,
            -- a household: someone among the 20 customers before shares the email or phone
            CASE WHEN _u(i, 'email') >= 0.08 AND _u(i, 'email') < 0.11
                 THEN (i + {n} - 1 - _n(i, 'email_household', 20)) % {n} ELSE i END
                AS email_owner,
            CASE WHEN _u(i, 'phone') < 0.025
                 THEN (i + {n} - 1 - _n(i, 'phone_household', 20)) % {n} ELSE i END
                AS phone_owner
        FROM _p
    ) AS p
    JOIN _p AS e ON e.i = p.email_owner
    JOIN _p AS ph ON ph.i = p.phone_owner
)
ORDER BY i  -- later tables read _c in this order and keep it
"""


def _orders_scratch() -> str:
    tax = "[0.07, 0.13, 0.0, 0.0]"  # sales tax on top in US/CA; VAT/GST included in GB/AU
    currency = "['USD', 'CAD', 'GBP', 'AUD']"
    return f"""
CREATE OR REPLACE TEMP TABLE _o AS
SELECT
    i * {_ORDERS_PER_CUSTOMER} + j AS okey,
    lpad(okey::VARCHAR, 10, '0') AS order_id,
    customer_id,
    CASE WHEN _u(okey, 'same_channel') < 0.6 THEN preferred_channel
         ELSE _pick(['online', 'store', 'app'], okey, 'channel') END AS channel,
    CASE WHEN channel = 'store' AND _u(okey, 'no_email') < 0.3 THEN NULL
         WHEN _u(okey, 'email_norm') < 0.03 THEN lower(trim(email))
         ELSE email END AS email,
    signup_date::TIMESTAMP + to_seconds(floor(
        (epoch(_as_of()::TIMESTAMP) - epoch(signup_date::TIMESTAMP)) * pow(_u(okey, 'when'), 0.8)
    )::BIGINT) AS order_date,
    CASE WHEN channel = 'store'
         THEN coalesce(preferred_store, 'ST' || lpad((city_slot * 3 + 1)::VARCHAR, 4, '0'))
    END AS store_id,
    CASE WHEN order_date >= _as_of() - INTERVAL 2 DAY THEN 'Processing'
         WHEN order_date >= _as_of() - INTERVAL 5 DAY AND channel <> 'store' THEN 'Shipped'
         WHEN _u(okey, 'status') < 0.04 THEN 'Canceled'
         WHEN _u(okey, 'status') < 0.09 THEN 'Returned'
         ELSE 'Completed' END AS status,
    {currency}[1 + country_slot] AS currency,
    {tax}[1 + country_slot] AS tax_rate,
    CASE WHEN _u(okey, 'coupon') < 0.12
         THEN _pick(['SAVE10', 'WELCOME15', 'VIP20'], okey, 'coupon_code') END AS coupon_code,
    1 + least({_LINES_PER_ORDER - 1}, floor(-ln(1 - _u(okey, 'lines')) * 1.2))::INTEGER AS lines
FROM (SELECT *, unnest(range(order_count)) AS j FROM _c)
"""


def _order_items(products: int) -> str:
    return f"""
CREATE OR REPLACE TEMP TABLE _i AS
SELECT
    okey,
    okey // {_ORDERS_PER_CUSTOMER} AS i,
    _sub(p) AS subcategory_slot,
    order_id,
    (line + 1)::INTEGER AS line_number,
    sku,
    CASE WHEN _u(ikey, 'qty') < 0.78 THEN 1 WHEN _u(ikey, 'qty') < 0.93 THEN 2
         ELSE 3 + _n(ikey, 'qty_more', 3) END::INTEGER AS quantity,
    price,
    CASE WHEN _u(ikey, 'discount') < 0.2
         THEN round(price * (1 - (10 + _n(ikey, 'pct', 31)) / 100.0), 2)::DECIMAL(12, 2)
         ELSE price END AS discounted_price,
    ((price - discounted_price) * quantity)::DECIMAL(12, 2) AS item_discount_total,
    (discounted_price * quantity)::DECIMAL(12, 2) AS item_total,
    CASE WHEN discounted_price < price THEN
        CASE WHEN quantity >= 2 THEN 'QuantityDiscount'
             ELSE _pick(['Promotion', 'Markdown'], ikey, 'discount_type') END
    END AS discount_type,
    CASE discount_type WHEN 'QuantityDiscount' THEN 'Buy more, save more'
                       WHEN 'Promotion' THEN 'Seasonal sale'
                       WHEN 'Markdown' THEN 'Clearance markdown' END AS discount_description,
    CASE WHEN status = 'Completed' AND _u(ikey, 'line_return') < 0.02 THEN 'Returned'
         ELSE status END AS status,
    CASE WHEN channel <> 'store' AND status IN ('Completed', 'Returned', 'Shipped')
         THEN order_date + to_seconds(86400 * (1 + _n(ikey, 'ship', 5))) END AS ship_date
FROM (
    SELECT *, _sku(p) AS sku, _price(p) AS price
    FROM (
        SELECT *, floor({products} * pow(_u(ikey, 'sku'), 1.8))::BIGINT AS p
        FROM (
            SELECT *, okey * {_LINES_PER_ORDER} + line AS ikey
            FROM (SELECT *, unnest(range(lines)) AS line FROM _o)
        )
    )
)
"""


def _order_items_final() -> str:
    # _i was built in order (unnest keeps it), so no sort is needed to keep the table stable.
    return """
CREATE OR REPLACE TABLE order_items AS
SELECT order_id, line_number, sku, quantity, price, discounted_price, item_discount_total,
    item_total, discount_type, discount_description, status, ship_date
FROM _i
"""


def _orders() -> str:
    return """
CREATE OR REPLACE TABLE orders AS
SELECT
    order_id, customer_id, email, order_date, channel, store_id, status, currency,
    item_total, shipping_total, tax_total, merchandise_discount, merchandise_discount_type,
    coupon_code, (item_total + shipping_total + tax_total - merchandise_discount)::DECIMAL(12, 2)
        AS order_total
FROM (
    SELECT *,
        CASE WHEN channel = 'store' OR item_total >= 75 THEN 0.00 ELSE 7.95
        END::DECIMAL(12, 2) AS shipping_total,
        round(item_total * CASE coupon_code WHEN 'SAVE10' THEN 0.10
            WHEN 'WELCOME15' THEN 0.15 WHEN 'VIP20' THEN 0.20 ELSE 0 END, 2)::DECIMAL(12, 2)
            AS merchandise_discount,
        CASE WHEN coupon_code IS NOT NULL THEN 'Coupon' END AS merchandise_discount_type,
        round((item_total - merchandise_discount) * tax_rate, 2)::DECIMAL(12, 2) AS tax_total
    FROM _o
    JOIN (SELECT okey, sum(item_total)::DECIMAL(12, 2) AS item_total FROM _i GROUP BY okey)
        USING (okey)
)
ORDER BY okey
"""


def _products(products: int) -> str:
    subs = SUBCATEGORIES
    return f"""
CREATE OR REPLACE TABLE products AS
SELECT
    _sku(p) AS sku,
    (1000000 + _style(p))::VARCHAR AS master_sku,
    CASE WHEN _u(_style(p), 'shouty') < 0.02 THEN upper(base_title) ELSE base_title END
        || ' - ' || _color(p) AS title,
    CASE WHEN _u(p, 'no_description') < 0.05 THEN NULL
         ELSE 'Our ' || lower(base_title) || ' in ' || lower(_color(p)) || ', made to last.'
    END AS description,
    _pick({_list(BRANDS)}, _style(p), 'brand') AS brand,
    {_list(s.category for s in subs)}[1 + _sub(p)] AS category,
    {_list(s.name for s in subs)}[1 + _sub(p)] AS subcategory,
    _color(p) AS color,
    _pick({_nested(s.sizes for s in subs)}[1 + _sub(p)], p, 'size') AS size,
    _price(p) AS price,
    _u(_style(p), 'sale') < 0.15 AS on_sale,
    CASE WHEN on_sale
         THEN round(price * (0.6 + 0.25 * _u(_style(p), 'sale_pct')), 2)::DECIMAL(12, 2)
    END AS sale_price,
    CASE WHEN on_sale
         THEN _as_of()::TIMESTAMP - to_seconds(86400 * (1 + _n(_style(p), 'sale_start', 30)))
    END AS sale_start_date,
    _n(p, 'qoh', 250)::INTEGER AS qoh,
    qoh > 0 AS in_stock,
    _u(_style(p), 'discontinued') < 0.03 AS discontinued,
    'https://cdn.example.com/products/' || _sku(p) || '.jpg' AS image_url,
    'https://shop.example.com/p/' || _sku(p) AS link_url,
    _as_of()::TIMESTAMP - to_seconds(86400 * (30 + _n(_style(p), 'created', 1500))) AS created_at
FROM (
    SELECT range AS p,
        CASE {_list(s.category for s in subs)}[1 + _sub(range)]
            WHEN 'Women' THEN 'Women''s ' WHEN 'Men' THEN 'Men''s ' ELSE '' END
        || _pick({_list(ADJECTIVES)}, _style(range), 'adjective') || ' '
        || _pick({_nested(s.nouns for s in subs)}[1 + _sub(range)], _style(range), 'noun')
        AS base_title
    FROM range({products})
)
ORDER BY p
"""


def _customer_360() -> str:
    return f"""
CREATE OR REPLACE TABLE customer_360 AS
WITH bought AS (
    SELECT customer_id,
        count(*)::INTEGER AS order_count,
        sum(order_total)::DECIMAL(12, 2) AS lifetime_value,
        min(order_date)::DATE AS first_order_date,
        max(order_date)::DATE AS last_order_date
    FROM orders WHERE status <> 'Canceled' GROUP BY customer_id
), favourite AS (
    SELECT i, first(category ORDER BY spend DESC, category) AS favorite_category  -- ties: by name
    FROM (
        SELECT i, {_list(s.category for s in SUBCATEGORIES)}[1 + subcategory_slot] AS category,
            sum(item_total) AS spend
        FROM _i WHERE status <> 'Canceled'
        GROUP BY ALL
    ) GROUP BY i
)
SELECT
    c.customer_id, c.first_name, c.last_name, c.email, c.phone,
    c.city, c.state, c.postal_code, c.country, c.birthday, c.gender,
    c.signup_date, c.registered, c.loyalty_member,
    CASE WHEN NOT c.loyalty_member THEN NULL
         WHEN coalesce(b.lifetime_value, 0) >= 2000 THEN 'Platinum'
         WHEN coalesce(b.lifetime_value, 0) >= 800 THEN 'Gold'
         WHEN coalesce(b.lifetime_value, 0) >= 250 THEN 'Silver'
         ELSE 'Bronze' END AS loyalty_tier,
    CASE WHEN c.loyalty_member THEN floor(coalesce(b.lifetime_value, 0))::INTEGER END
        AS loyalty_points,
    coalesce(b.order_count, 0) AS order_count,
    coalesce(b.lifetime_value, 0)::DECIMAL(12, 2) AS lifetime_value,
    CASE WHEN b.order_count > 0 THEN (b.lifetime_value / b.order_count)::DECIMAL(12, 2)
    END AS average_order_value,
    b.first_order_date, b.last_order_date,
    c.preferred_store, c.preferred_channel, f.favorite_category,
    (coalesce(b.lifetime_value, 0) * (0.3 + _u(c.i, 'clv')) + 40 * _u(c.i, 'clv_base'))
        ::DECIMAL(12, 2) AS predicted_clv,
    CASE WHEN b.last_order_date IS NULL OR b.last_order_date < _as_of() - 365 THEN 'high'
         WHEN b.last_order_date < _as_of() - 120 THEN 'medium' ELSE 'low' END AS churn_risk
FROM _c AS c
LEFT JOIN bought AS b USING (customer_id)
LEFT JOIN favourite AS f USING (i)
ORDER BY c.i
"""


def _merged_customers() -> str:
    return """
CREATE OR REPLACE TABLE merged_customers AS
SELECT
    customer_id, first_name, last_name, email, phone, address_line1, address_line2,
    city, state, postal_code, country, birthday, gender, registered, loyalty_member,
    preferred_store, source_system, created_at,
    created_at + to_seconds(floor(
        (epoch(_as_of()::TIMESTAMP) - epoch(created_at)) * _u(i, 'updated')
    )::BIGINT) AS updated_at
FROM _c
"""


def _sms_opt_status(n: int) -> str:
    orphans = max(1, n // 100)
    return f"""
CREATE OR REPLACE TABLE sms_opt_status AS
WITH known AS (
    SELECT
        i, customer_id,
        -- a third as the SMS platform stores them (E.164), the rest as the customer typed
        CASE WHEN phone_kind <> 'invalid' AND _u(i, 'sms_e164') < 0.35
             THEN CASE country_slot WHEN 0 THEN '+1' WHEN 1 THEN '+1' WHEN 2 THEN '+44'
                  ELSE '+61' END || phone_nsn
             ELSE phone END AS phone,
        CASE WHEN _u(i, 'sms_status') < 0.68 THEN 'opted_in'
             WHEN _u(i, 'sms_status') < 0.88 THEN 'opted_out' ELSE 'pending' END AS status,
        created_at + to_seconds(floor(
            (epoch(_as_of()::TIMESTAMP) - epoch(created_at)) * _u(i, 'sms_when') * 0.8
        )::BIGINT) AS first_seen,
        _pick(['web_form', 'checkout', 'keyword', 'pos', 'import'], i, 'sms_source') AS source
    FROM _c
    WHERE phone IS NOT NULL AND _u(i, 'sms_known') < 0.6
), rows AS (
    SELECT customer_id, phone, status,
        CASE WHEN status <> 'pending' THEN first_seen END AS consent_at,
        CASE WHEN status = 'opted_out' THEN first_seen + to_seconds(floor(
            (epoch(_as_of()::TIMESTAMP) - epoch(first_seen)) * _u(i, 'sms_out'))::BIGINT)
        END AS opted_out_at,
        source,
        CASE WHEN source = 'keyword' THEN 'JOIN' END AS keyword,
        coalesce(opted_out_at, first_seen) AS updated_at
    FROM known
    UNION ALL
    -- an older, superseded row for 2 % of numbers: history the consent filter must resolve
    SELECT customer_id, phone, 'pending', NULL, NULL, source,
        CASE WHEN source = 'keyword' THEN 'JOIN' END,
        first_seen - to_seconds(86400 * (1 + _n(i, 'sms_older', 30)))
    FROM known WHERE _u(i, 'sms_history') < 0.02
    UNION ALL
    -- numbers that texted the short code but match no customer (mostly STOP)
    SELECT NULL,
        '+1' || _pick(['212', '312', '415', '617', '713'], {n} + k, 'orphan_area') || '555'
            || lpad(_n({n} + k, 'orphan_line', 10000)::VARCHAR, 4, '0'),
        CASE WHEN _u({n} + k, 'orphan_status') < 0.7 THEN 'opted_out' ELSE 'opted_in' END,
        _as_of()::TIMESTAMP - to_seconds(86400 * (30 + _n({n} + k, 'orphan_when', 700))),
        NULL, 'keyword', 'JOIN',
        _as_of()::TIMESTAMP - to_seconds(86400 * (1 + _n({n} + k, 'orphan_when', 700)))
    FROM range({orphans}) AS r(k)
)
SELECT customer_id, phone, status, consent_at,
    CASE WHEN status = 'opted_out' THEN coalesce(opted_out_at, updated_at) END AS opted_out_at,
    source, keyword, updated_at
FROM rows
ORDER BY customer_id NULLS LAST, updated_at, phone
"""


def _email_opt_status(n: int) -> str:
    orphans = max(1, n // 100)
    return f"""
CREATE OR REPLACE TABLE email_opt_status AS
WITH known AS (
    SELECT i, customer_id,
        -- the ESP lower-cases and trims about half of what it receives
        CASE WHEN _u(i, 'esp_norm') < 0.5 THEN lower(trim(email)) ELSE email END AS email,
        _u(i, 'esp_status') < 0.78 AS subscribed,
        created_at + to_seconds(floor(
            (epoch(_as_of()::TIMESTAMP) - epoch(created_at)) * _u(i, 'esp_when') * 0.8
        )::BIGINT) AS subscribed_at,
        _pick(['checkout', 'web_form', 'popup', 'pos', 'import'], i, 'esp_source') AS source
    FROM _c
    WHERE email IS NOT NULL AND email <> '' AND _u(i, 'esp_known') < 0.85
)
SELECT customer_id, email,
    CASE WHEN subscribed THEN 'subscribed' ELSE 'unsubscribed' END AS status,
    subscribed_at,
    CASE WHEN NOT subscribed THEN subscribed_at + to_seconds(floor(
        (epoch(_as_of()::TIMESTAMP) - epoch(subscribed_at)) * _u(i, 'esp_out'))::BIGINT)
    END AS unsubscribed_at,
    source,
    coalesce(unsubscribed_at, subscribed_at) AS updated_at
FROM known
UNION ALL
SELECT NULL, 'newsletter' || ({n} + k)::VARCHAR || '@example.org',
    CASE WHEN _u({n} + k, 'esp_orphan') < 0.8 THEN 'subscribed' ELSE 'unsubscribed' END,
    _as_of()::TIMESTAMP - to_seconds(86400 * (30 + _n({n} + k, 'esp_orphan_when', 700))),
    CASE WHEN _u({n} + k, 'esp_orphan') >= 0.8 THEN _as_of()::TIMESTAMP
        - to_seconds(86400 * (1 + _n({n} + k, 'esp_orphan_out', 29))) END,
    'web_form',
    _as_of()::TIMESTAMP - to_seconds(86400 * (1 + _n({n} + k, 'esp_orphan_out', 29)))
FROM range({orphans}) AS r(k)
ORDER BY customer_id NULLS LAST, email
"""


def statements(customers: int, seed: int, as_of: date) -> list[tuple[str | None, str]]:
    """(table it creates or None, SQL) in execution order."""
    products = product_count(customers)
    return [
        *((None, sql) for sql in _macros(seed, as_of)),
        (None, _people(customers)),
        (None, _customers(customers)),
        ("products", _products(products)),
        (None, _orders_scratch()),
        (None, _order_items(products)),
        ("order_items", _order_items_final()),
        ("orders", _orders()),
        ("customer_360", _customer_360()),
        ("merged_customers", _merged_customers()),
        ("sms_opt_status", _sms_opt_status(customers)),
        ("email_opt_status", _email_opt_status(customers)),
    ]


def cleanup() -> str:
    """Drop the scratch tables and the macros, leaving the connection as it was."""
    macros = re.findall(r"CREATE OR REPLACE TEMP MACRO (\w+)", "\n".join(_macros(0, date.today())))
    drops = [f"DROP TABLE IF EXISTS {t}" for t in ("_i", "_o", "_c", "_p")]
    return "; ".join(drops + [f"DROP MACRO IF EXISTS {m}" for m in reversed(macros)])
