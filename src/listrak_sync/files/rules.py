"""Vectorised checks and normalisation of one Arrow batch against a Listrak data set (§4).

Each column goes through one function per column kind that returns the clean, typed values and
the rows that failed, with a reason: an *error* leaves the row out, a *warning* keeps the row and
empties or fixes the value, as the schema document prescribes (birthday, phone, state and country
are emptied; long strings are rejected or truncated by choice). All of it runs in Arrow compute;
Python touches individual values only for the rare ones a regex cannot settle (non-ASCII emails)
and for phone numbers, which go through ``phonenumbers`` once per distinct value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from email_validator import EmailNotValidError, validate_email

from ..config.datasets import DISCOUNT_TYPES, STATUS_CODES, Column, Dataset
from ..config.files import ValidationRules
from .issues import IssueLog, Severity
from .places import COUNTRY_CODES, COUNTRY_NAMES, STATE_NAMES

__all__ = ["BatchValidator", "CheckedBatch", "Target", "clean_type"]

Target = Literal["file", "api"]

# RFC 5322 dot-atom local part and a DNS host name; quoted local parts and address literals are
# left to email-validator on the slow path.
_EMAIL = (
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_DECIMAL = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_INTEGER = r"^[+-]?\d+(\.0*)?$"
_URL = r"^(?i:https?)://[^\s/?#]+\.[^\s/?#]+([/?#]\S*)?$"
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
_TRUE = ("true", "t", "1", "y", "yes")
_FALSE = ("false", "f", "0", "n", "no")
_MAX_MONEY = 1e13  # keeps two decimals exact in a double and inside decimal128(38, 2)
_INT32 = (-(2**31), 2**31 - 1)

_OUT_TYPES: dict[str, pa.DataType] = {
    "date": pa.date32(),
    "datetime": pa.timestamp("s", tz="UTC"),
    "decimal": pa.float64(),
    "integer": pa.int64(),
    "boolean": pa.bool_(),
}


def clean_type(column: Column) -> pa.DataType:
    """The Arrow type of a column after validation (strings unless noted)."""
    return _OUT_TYPES.get(column.kind, pa.string())


@dataclass
class CheckedBatch:
    """The rows that passed, with typed clean values, and their source row numbers."""

    batch: pa.RecordBatch
    rows: pa.Array
    rejected: int


@dataclass
class _Result:
    values: pa.Array
    findings: list[tuple[pa.Array, Severity, str]] = field(default_factory=list)

    def flag(self, mask: pa.Array, severity: Severity, reason: str) -> None:
        mask = pc.fill_null(mask, False)
        if pc.any(mask).as_py():
            self.findings.append((mask, severity, reason))


def _text(array: pa.Array) -> pa.Array:
    """Any source column as trimmed text, empty strings as null (line breaks handled apart)."""
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_floating(array.type):
        # 12.0 should read "12", not "12.0", when a key was stored as a double.
        whole = pc.equal(array, pc.floor(array))
        as_int = pc.if_else(whole, array, None).cast(pa.int64(), safe=False).cast(pa.string())
        array = pc.if_else(whole, as_int, array.cast(pa.string()))
    elif not pa.types.is_string(array.type):
        array = array.cast(pa.string())
    array = pc.utf8_trim_whitespace(array)
    return pc.if_else(pc.equal(array, ""), None, array)


class BatchValidator:
    """Checks consecutive batches of one data set; remembers keys to find duplicates."""

    def __init__(
        self,
        dataset: Dataset,
        rules: ValidationRules,
        target: Target,
        issues: IssueLog,
        *,
        now: datetime,
        today: date,
    ) -> None:
        self.dataset = dataset
        self.rules = rules
        self.target = target
        self.issues = issues
        self.now = now
        self.today = today
        self._seen: dict[str, int] = {}  # key -> first row; keys only, never whole rows
        self._phones: dict[str, str | None] = {}
        self.columns = tuple(c for c in dataset.columns if target == "file" or c.api_field)
        self.schema = pa.schema([(c.name, clean_type(c)) for c in self.columns])

    @property
    def seen_keys(self) -> dict[str, int]:
        return self._seen

    def check(self, batch: pa.RecordBatch, first_row: int) -> CheckedBatch:
        """Validate ``batch`` whose first row is source row ``first_row`` (1-based)."""
        n = batch.num_rows
        rows = pa.array(range(first_row, first_row + n), pa.int64())
        names = set(batch.schema.names)
        if self.target == "api" and "alternateordernumber" in names:
            # The API has no alternate number: it stands in for a missing one (§4.2 rule 10).
            alternate = _text(batch.column("alternateordernumber"))
            number = _text(batch.column("ordernumber")) if "ordernumber" in names else alternate
            batch = pa.RecordBatch.from_arrays(
                [
                    *(batch.column(c) for c in batch.schema.names if c != "ordernumber"),
                    pc.coalesce(number, alternate),
                ],
                names=[*(c for c in batch.schema.names if c != "ordernumber"), "ordernumber"],
            )
            names.add("ordernumber")
        clean: dict[str, pa.Array] = {}
        reject = pa.repeat(False, n)
        for column in self.columns:
            source = batch.column(column.name) if column.name in names else pa.nulls(n)
            text = _text(source) if column.kind not in _TYPED_KINDS else source
            result = _Result(text)
            if column.kind not in _TYPED_KINDS:
                broken = pc.match_substring_regex(text, "[\r\n]")
                result.values = pc.utf8_trim_whitespace(
                    pc.replace_substring_regex(text, r"\r\n|\r|\n", " ")
                )
                result.flag(broken, "warning", "line break replaced with a space")
            _CHECKS[column.kind](self, column, result)
            if column.kind in _LENGTH_KINDS:
                self._check_length(column, result)
            clean[column.name] = result.values.cast(clean_type(column))
            for mask, severity, reason in result.findings:
                if severity == "error":
                    reject = pc.or_(reject, mask)
                self._report(rows, mask, column.name, severity, reason, batch)
        reject = self._check_required(clean, reject, rows, batch)
        keep = pc.invert(reject)
        reject = self._check_unique(clean, keep, reject, rows, batch)
        keep = pc.invert(reject)
        out = pa.RecordBatch.from_arrays(
            [clean[c.name] for c in self.columns], schema=self.schema
        ).filter(keep)
        return CheckedBatch(out, rows.filter(keep), int(pc.sum(reject.cast(pa.int64())).as_py()))

    # -- reporting ------------------------------------------------------------------------

    def _keys_for(self, batch: pa.RecordBatch, mask: pa.Array) -> pa.Array | None:
        """Order numbers or SKUs of the flagged rows: they locate a row and are not personal."""
        name = {"products": "sku", "orders": "ordernumber", "order_items": "ordernumber"}.get(
            self.dataset.name
        )
        if name is None or name not in batch.schema.names:
            return None
        keys = _text(batch.column(name)).filter(mask)
        if self.dataset.name == "order_items" and "sku" in batch.schema.names:
            sku = _text(batch.column("sku")).filter(mask)
            keys = pc.binary_join_element_wise(
                keys, sku, "/", null_handling="replace", null_replacement=""
            )
        return keys

    def _report(
        self,
        rows: pa.Array,
        mask: pa.Array,
        column: str,
        severity: Severity,
        reason: str,
        batch: pa.RecordBatch,
    ) -> None:
        self.issues.add(rows.filter(mask), column, reason, severity, self._keys_for(batch, mask))

    # -- per-kind checks ------------------------------------------------------------------

    def _check_length(self, column: Column, result: _Result) -> None:
        limit = column.max_length
        if self.target == "api" and column.api_max_length is not None:
            limit = min(limit or column.api_max_length, column.api_max_length)
        if limit is None:
            return
        too_long = pc.greater(pc.utf8_length(result.values), limit)
        if self.rules.long_strings == "truncate":
            result.flag(too_long, "warning", f"longer than {limit} characters; truncated")
            result.values = pc.utf8_slice_codeunits(result.values, 0, limit)
        else:
            result.flag(too_long, "error", f"longer than {limit} characters")

    def _string(self, column: Column, result: _Result) -> None:
        return None

    def _title(self, column: Column, result: _Result) -> None:
        html = pc.match_substring_regex(result.values, r"<[^>]*>")
        result.flag(html, "warning", "HTML tags removed")
        stripped = pc.utf8_trim_whitespace(
            pc.replace_substring_regex(result.values, r"<[^>]*>", "")
        )
        result.values = pc.if_else(pc.equal(stripped, ""), None, stripped)
        shouting = pc.and_(
            pc.utf8_is_upper(result.values), pc.greater(pc.utf8_length(result.values), 3)
        )
        result.flag(shouting, "warning", "title is ALL CAPS (Listrak asks for normal case)")
        promo = pc.match_substring_regex(result.values, r"(?i)\d+\s*%\s*off\b")
        result.flag(promo, "warning", "promotional text in title (Listrak asks to leave it out)")

    def _email(self, column: Column, result: _Result) -> None:
        values = result.values
        ok = pc.match_substring_regex(values, _EMAIL)
        suspect = pc.and_(pc.invert(ok), pc.is_valid(values))
        if pc.any(suspect).as_py():
            # Internationalised addresses and quoted local parts: let email-validator decide.
            suspects = pc.indices_nonzero(suspect).to_pylist()
            verdicts = [_email_ok(v) for v in values.take(suspects).to_pylist()]
            rescued = [i for i, good in zip(suspects, verdicts, strict=True) if good]
            if rescued:
                mask = pc.is_in(pa.array(range(len(values))), pa.array(rescued))
                ok = pc.or_(ok, mask)
        result.flag(pc.and_(pc.invert(ok), pc.is_valid(values)), "error", "not a valid email")

    def _phone(self, column: Column, result: _Result) -> None:
        encoded = result.values.dictionary_encode()
        normal = [self._normal_phone(v) for v in encoded.dictionary.to_pylist()]
        values = pa.array(normal, pa.string()).take(encoded.indices)
        result.flag(
            pc.and_(pc.is_valid(result.values), pc.is_null(values)),
            "warning",
            "not a valid phone number; left empty",
        )
        result.values = values

    def _normal_phone(self, raw: str) -> str | None:
        if raw in self._phones:
            return self._phones[raw]
        try:
            number = phonenumbers.parse(raw, self.rules.phone_region)
            valid = phonenumbers.is_valid_number(number)
        except phonenumbers.NumberParseException:
            valid = False
        if valid:
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            normal: str | None = e164 if self.rules.phone_plus else e164.lstrip("+")
        else:
            normal = None
        if len(self._phones) < 1_000_000:
            self._phones[raw] = normal
        return normal

    def _date(self, column: Column, result: _Result) -> None:
        values = result.values
        if pa.types.is_timestamp(values.type):
            values = values.cast(pa.date32())
        elif not pa.types.is_date(values.type):
            text = _text(values)
            shaped = pc.match_substring_regex(text, _ISO_DATE)
            parsed = pc.strptime(
                pc.if_else(shaped, text, None), format="%Y-%m-%d", unit="s", error_is_null=True
            ).cast(pa.date32())
            result.flag(
                pc.and_(pc.is_valid(text), pc.is_null(parsed)),
                "warning",
                "not a YYYY-MM-DD date; left empty",
            )
            values = parsed
        values = values.cast(pa.date32())
        out = pc.or_(
            pc.less(values, pa.scalar(date(1900, 1, 1))), pc.greater(values, pa.scalar(self.today))
        )
        result.flag(out, "warning", f"outside 1900-01-01..{self.today.isoformat()}; left empty")
        result.values = pc.if_else(pc.fill_null(out, False), None, values)

    def _datetime(self, column: Column, result: _Result) -> None:
        values = result.values
        zone = self.rules.source_timezone
        if pa.types.is_date(values.type):
            values = values.cast(pa.timestamp("s"))
        if pa.types.is_timestamp(values.type):
            if values.type.tz is None:
                if zone is None:
                    result.flag(
                        pc.is_valid(values),
                        "error",
                        "timestamp has no time zone (set source_timezone)",
                    )
                    values = pa.nulls(len(values), pa.timestamp("s", tz="UTC"))
                else:
                    values = pc.assume_timezone(
                        values, timezone=zone, ambiguous="earliest", nonexistent="earliest"
                    )
            values = values.cast(pa.timestamp("s", tz="UTC"), safe=False)
        else:
            values = self._parse_datetime(_text(values), result)
        if column.name == "dateentered":
            future = pc.greater(values, pa.scalar(self.now, pa.timestamp("s", tz="UTC")))
            result.flag(future, "warning", "order date is in the future")
        result.values = values

    def _parse_datetime(self, text: pa.Array, result: _Result) -> pa.Array:
        # ISO 8601: date, T or space, time to the second, optional fraction, offset or Z.
        norm = pc.replace_substring_regex(text, r"^(\d{4}-\d{2}-\d{2}) ", r"\1T")
        norm = pc.replace_substring_regex(norm, r"(T\d{2}:\d{2}:\d{2})\.\d+", r"\1")
        norm = pc.replace_substring_regex(norm, r"(T\d{2}:\d{2})(Z|[+-]|$)", r"\1:00\2")
        utc = pa.timestamp("s", tz="UTC")
        aware = pc.strptime(norm, format="%Y-%m-%dT%H:%M:%S%z", unit="s", error_is_null=True)
        aware = aware.cast(utc)
        naive_shape = pc.match_substring_regex(norm, r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
        naive_rows = pc.and_(pc.is_null(aware), pc.fill_null(naive_shape, False))
        zone = self.rules.source_timezone
        if zone is not None and pc.any(naive_rows).as_py():
            naive = pc.strptime(
                pc.if_else(naive_rows, norm, None),
                format="%Y-%m-%dT%H:%M:%S",
                unit="s",
                error_is_null=True,
            )
            local = pc.assume_timezone(
                naive, timezone=zone, ambiguous="earliest", nonexistent="earliest"
            ).cast(utc)
            aware = pc.coalesce(aware, local)
        elif zone is None:
            result.flag(naive_rows, "error", "date-time has no offset (set source_timezone)")
        bad = pc.and_(pc.and_(pc.is_valid(text), pc.is_null(aware)), pc.invert(naive_rows))
        result.flag(bad, "error", "not an ISO 8601 date-time")
        return aware

    def _numbers(self, result: _Result, kind: str) -> pa.Array:
        """Source values as float64; strings lose currency symbols and thousands separators."""
        values = result.values
        if pa.types.is_dictionary(values.type):
            values = values.dictionary_decode()
        if pa.types.is_boolean(values.type) or not (
            pa.types.is_integer(values.type)
            or pa.types.is_floating(values.type)
            or pa.types.is_decimal(values.type)
        ):
            text = pc.replace_substring_regex(_text(values), r"[\s$€£¥,]", "")
            shaped = pc.match_substring_regex(text, _DECIMAL if kind == "a number" else _INTEGER)
            result.flag(pc.and_(pc.is_valid(text), pc.invert(shaped)), "error", f"not {kind}")
            text = pc.if_else(pc.fill_null(shaped, False), text, None)
            return text.cast(pa.float64())
        return values.cast(pa.float64())

    def _decimal(self, column: Column, result: _Result) -> None:
        values = self._numbers(result, "a number")
        bad = pc.or_(pc.invert(pc.is_finite(values)), pc.greater(pc.abs(values), _MAX_MONEY))
        result.flag(bad, "error", "not a finite amount below 10^13")
        values = pc.if_else(pc.fill_null(bad, False), None, values)
        result.flag(pc.less(values, 0), "warning", "negative amount")
        # +0.0 turns -0.0 into 0.0 so a rounded tiny negative is written "0.00".
        result.values = pc.add(pc.round(values, 2), 0.0)

    def _integer(self, column: Column, result: _Result) -> None:
        values = self._numbers(result, "an integer")
        whole = pc.and_(pc.is_finite(values), pc.equal(values, pc.floor(values)))
        result.flag(pc.invert(whole), "error", "not a whole number")
        values = pc.if_else(pc.fill_null(whole, False), values, None)
        outside = pc.or_(pc.less(values, _INT32[0]), pc.greater(values, _INT32[1]))
        result.flag(outside, "error", "outside the 32-bit integer range")
        values = pc.if_else(pc.fill_null(outside, False), None, values)
        if column.name == "quantity" and not self.rules.allow_non_positive_quantity:
            result.flag(pc.less_equal(values, 0), "error", "quantity is not positive")
        result.values = values.cast(pa.int64())

    def _boolean(self, column: Column, result: _Result) -> None:
        values = result.values
        if not pa.types.is_boolean(values.type):
            text = pc.utf8_lower(_text(values))
            truthy = pc.is_in(text, pa.array(_TRUE))
            falsy = pc.is_in(text, pa.array(_FALSE))
            known = pc.or_(truthy, falsy)
            result.flag(pc.and_(pc.is_valid(text), pc.invert(known)), "error", "not a boolean")
            values = pc.if_else(known, truthy, None)
        result.values = values

    def _gender(self, column: Column, result: _Result) -> None:
        text = pc.utf8_lower(result.values)
        gender = pc.if_else(
            pc.is_in(text, pa.array(["m", "male"])),
            "M",
            pc.if_else(pc.is_in(text, pa.array(["f", "female"])), "F", "N"),
        )
        gender = pc.if_else(pc.is_valid(text), gender, None)
        if self.target == "api":
            # The API documents M/F only; N is left out until Listrak confirms it (§4.3 rule 15).
            gender = pc.if_else(pc.equal(gender, "N"), None, gender)
        result.values = gender

    def _lookup(self, result: _Result, table: dict[str, str]) -> pa.Array:
        keys = pa.array(list(table), pa.string())
        where = pc.index_in(pc.utf8_lower(result.values), value_set=keys)
        mapped = pa.array(list(table.values()), pa.string()).take(where)
        return pc.coalesce(mapped, pc.utf8_upper(result.values))

    def _state(self, column: Column, result: _Result) -> None:
        values = self._lookup(result, STATE_NAMES)
        bad = pc.greater(pc.utf8_length(values), 3)
        result.flag(bad, "warning", "not a state abbreviation (at most 3 characters); left empty")
        result.values = pc.if_else(pc.fill_null(bad, False), None, values)

    def _country(self, column: Column, result: _Result) -> None:
        values = self._lookup(result, COUNTRY_NAMES)
        bad = pc.invert(pc.is_in(values, pa.array(sorted(COUNTRY_CODES))))
        bad = pc.and_(bad, pc.is_valid(values))
        result.flag(bad, "warning", "not an ISO 3166-1 alpha-2 country; left empty")
        result.values = pc.if_else(pc.fill_null(bad, False), None, values)

    def _enum(self, result: _Result, names: tuple[str, ...], what: str) -> None:
        text = result.values
        lowered = pc.utf8_lower(text)
        where = pc.index_in(lowered, value_set=pa.array([n.lower() for n in names]))
        canonical = pa.array(names).take(where)
        unset = pc.is_in(lowered, pa.array(["notset", "null", "none"]))
        result.flag(
            pc.and_(pc.and_(pc.is_valid(text), pc.is_null(canonical)), pc.invert(unset)),
            "error",
            f"not a {what}",
        )
        result.values = canonical

    def _discount_type(self, column: Column, result: _Result) -> None:
        # NotSet is the API's spelling of the file's empty value: both are written as null.
        self._enum(result, DISCOUNT_TYPES, "Listrak discount type")

    def _status(self, column: Column, result: _Result) -> None:
        text = result.values
        code = pc.index_in(text, value_set=pa.array([str(i) for i in range(len(STATUS_CODES))]))
        by_code = pa.array(STATUS_CODES).take(code)
        names = STATUS_CODES + (("Closed",) if self.target == "api" else ())
        named = _Result(pc.if_else(pc.is_valid(by_code), None, text))
        self._enum(named, names, "Listrak status" + (" for files" if self.target == "file" else ""))
        result.findings.extend(named.findings)
        result.values = pc.coalesce(by_code, named.values)

    def _url(self, column: Column, result: _Result) -> None:
        ok = pc.match_substring_regex(result.values, _URL)
        result.flag(pc.invert(ok), "error", "not an absolute http(s) URL")

    # -- row-level checks -----------------------------------------------------------------

    def _check_required(
        self,
        clean: dict[str, pa.Array],
        reject: pa.Array,
        rows: pa.Array,
        batch: pa.RecordBatch,
    ) -> pa.Array:
        name = self.dataset.name
        missing: list[tuple[str, pa.Array, str]] = []
        for column in self.columns:
            if column.required:
                missing.append((column.name, pc.is_null(clean[column.name]), "required"))
        if name in ("orders", "order_items"):
            number = clean["ordernumber"]
            if self.target == "file":
                both = pc.and_(pc.is_null(number), pc.is_null(clean["alternateordernumber"]))
                missing.append(
                    ("ordernumber", both, "required (or alternateordernumber in its place)")
                )
            else:
                missing.append(("ordernumber", pc.is_null(number), "required"))
        if name == "orders" or (name == "customers" and self.target == "api"):
            email = pc.is_null(clean["email"])
            if self.rules.crm_enabled:
                email = pc.and_(email, pc.is_null(clean["customernumber"]))
                missing.append(("email", email, "email or customernumber required"))
            else:
                missing.append(("email", email, "required (account is not CRM-enabled)"))
        for column_name, mask, reason in missing:
            mask = pc.and_(mask, pc.invert(reject))  # one error per row is enough
            if pc.any(mask).as_py():
                self._report(rows, mask, column_name, "error", reason, batch)
                reject = pc.or_(reject, mask)
        return reject

    def _key(self, clean: dict[str, pa.Array]) -> tuple[pa.Array, str]:
        name = self.dataset.name
        if name == "customers":
            # Without an email (API, CRM-enabled account) the customer number is the key.
            number = pc.binary_join_element_wise("#", clean["customernumber"], "")
            return pc.coalesce(pc.utf8_lower(clean["email"]), number), "email"
        if name == "products":
            return clean["sku"], "sku"
        number = clean["ordernumber"]
        if "alternateordernumber" in clean:
            number = pc.coalesce(number, clean["alternateordernumber"])
        if name == "orders":
            return number, "ordernumber"
        return pc.binary_join_element_wise(number, clean["sku"], "\x1f"), "sku"

    def _check_unique(
        self,
        clean: dict[str, pa.Array],
        keep: pa.Array,
        reject: pa.Array,
        rows: pa.Array,
        batch: pa.RecordBatch,
    ) -> pa.Array:
        keys_array, column = self._key(clean)
        keys: list[str] = keys_array.filter(keep).to_pylist()
        kept_rows: list[int] = rows.filter(keep).to_pylist()
        seen = self._seen
        if None not in keys and seen.keys().isdisjoint(keys) and len(set(keys)) == len(keys):
            seen.update(zip(keys, kept_rows, strict=True))  # the common case: one C-level pass
            return reject
        dup_rows: list[int] = []
        for key, row in zip(keys, kept_rows, strict=True):
            if key is not None and seen.setdefault(key, row) != row:
                dup_rows.append(row)
        what = " and ".join(self.dataset.key)
        mask = pc.is_in(rows, pa.array(dup_rows, pa.int64()))
        self._report(rows, mask, column, "error", f"duplicate {what}; the first row is kept", batch)
        return pc.or_(reject, mask)


def _email_ok(value: str) -> bool:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


_TYPED_KINDS = frozenset({"date", "datetime", "decimal", "integer", "boolean"})
_LENGTH_KINDS = frozenset({"string", "email", "title", "url"})

_Check = Callable[[BatchValidator, Column, _Result], Any]
_CHECKS: dict[str, _Check] = {
    "string": BatchValidator._string,
    "title": BatchValidator._title,
    "email": BatchValidator._email,
    "phone": BatchValidator._phone,
    "date": BatchValidator._date,
    "datetime": BatchValidator._datetime,
    "decimal": BatchValidator._decimal,
    "integer": BatchValidator._integer,
    "boolean": BatchValidator._boolean,
    "gender": BatchValidator._gender,
    "state": BatchValidator._state,
    "country": BatchValidator._country,
    "discount_type": BatchValidator._discount_type,
    "status": BatchValidator._status,
    "url": BatchValidator._url,
}
