"""The synthetic company's static set-up: currencies, FX, tax, revenue rules, accounts, products
and plans. Everything here is a constant or a pure function of its arguments."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from ordway_sandbox import recognition as rec

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
BASE_CURRENCY = "USD"

# currency -> (share of customers, price-book factor vs USD list, base USD rate, tax rate, tax name)
CURRENCIES: dict[str, tuple[float, Decimal, float, Decimal, str]] = {
    "USD": (0.58, Decimal("1"), 1.0, Decimal("0.08"), "Sales Tax"),
    "EUR": (0.17, Decimal("0.92"), 1.085, Decimal("0.20"), "VAT"),
    "GBP": (0.15, Decimal("0.79"), 1.265, Decimal("0.20"), "VAT"),
    "CAD": (0.10, Decimal("1.36"), 0.735, Decimal("0.13"), "HST"),
}
# Currencies no customer draws; only an edge case assigns them (IDR: the large_contracts knob).
EXTRA_CURRENCIES: dict[str, tuple[float, Decimal, float, Decimal, str]] = {
    "IDR": (0.0, Decimal("16340"), 0.0000612, Decimal("0.11"), "PPN"),
}
ALL_CURRENCIES = {**CURRENCIES, **EXTRA_CURRENCIES}
FX_PHASE = {"EUR": 0.3, "GBP": 1.7, "CAD": 4.1, "IDR": 2.9}

TERMS = {"Net 30": 30, "Net 15": 15, "Due on Receipt": 0}
"""Payment terms -> days from invoice date to due date."""

_rate_cache: dict[tuple[str, int, str], tuple[float, Decimal]] = {}


def _usd_rate(currency: str, month: int) -> float:
    """USD per one unit of ``currency`` in month number ``month`` (unrounded)."""
    if currency == BASE_CURRENCY:
        return 1.0
    wobble = 1 + 0.04 * math.sin(2 * math.pi * month / 17 + FX_PHASE[currency])
    return ALL_CURRENCIES[currency][2] * wobble


def fx_rate(currency: str, day: date, base: str = BASE_CURRENCY) -> tuple[float, Decimal]:
    """``base`` per one unit of ``currency`` for ``day``'s month (deterministic).

    Returned as the wire float and the equal ``Decimal``. The rate depends only on the calendar
    month and the two currencies, never on the tenant's parameters. Rounded to 6 dp, or 10 dp for
    a rate below 0.01 (IDR: about 0.0000612 USD). ``base`` itself is exactly 1.0.
    """
    key = (currency, day.year * 12 + day.month - 1, base)
    cached = _rate_cache.get(key)
    if cached is not None:
        return cached
    if currency == base:
        value = Decimal("1.0")
    else:
        raw = _usd_rate(currency, key[1]) / _usd_rate(base, key[1])
        value = Decimal(repr(round(raw, 6 if raw >= 0.01 else 10)))
    result = (float(value), value)
    _rate_cache[key] = result
    return result


def q2(value: Decimal) -> Decimal:
    """Round half-up to cents (and never ``-0.00``)."""
    rounded = value.quantize(CENT, rounding=ROUND_HALF_UP)
    return rounded if rounded != 0 else ZERO


def tax_rate(currency: str) -> Decimal:
    return ALL_CURRENCIES[currency][3]


def tax_name(currency: str) -> str:
    return ALL_CURRENCIES[currency][4]


def local_price(list_price: Decimal, currency: str, base: str = BASE_CURRENCY) -> Decimal:
    """A list price (in ``base``) in ``currency`` by the price book, rounded half-up to cents.

    The price book's factors are per USD; for another base they are taken relative to it.
    """
    factor = ALL_CURRENCIES[currency][1]
    if base != BASE_CURRENCY:
        factor = factor / ALL_CURRENCIES[base][1]
    return (list_price * factor).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RevenueRule:
    id: str
    name: str
    method: str
    posting_day: str


REVENUE_RULES = (
    RevenueRule("PR-00001", "Straight-line monthly", rec.STRAIGHT_LINE, "End of Period"),
    RevenueRule("PR-00002", "Daily ratable", rec.EXACT_DAYS, "End of Period"),
    RevenueRule("PR-00003", "Recognize on invoicing", rec.ON_INVOICING, "Invoice Date"),
    RevenueRule("PR-00004", "Usage as consumed", rec.USAGE, "End of Period"),
)
RULES = {rule.id: rule for rule in REVENUE_RULES}

# code, name, account_type, sub_type, parent
ACCOUNTS = (
    ("1000", "Operating Cash", "Assets", "Cash", ""),
    ("1200", "Accounts Receivable", "Assets", "Accounts Receivable", ""),
    ("1250", "Unbilled Receivables", "Assets", "Accounts Receivable", "1200"),
    ("2300", "Sales Tax Payable", "Liability", "Tax Payable", ""),
    ("2400", "Deferred Revenue", "Liability", "Deferred Revenue", ""),
    ("4000", "Subscription Revenue", "Income", "Sales", ""),
    ("4100", "Usage Revenue", "Income", "Sales", "4000"),
    ("4200", "Professional Services Revenue", "Income", "Sales", ""),
    ("4300", "Payment Fees", "Income", "Other Income", ""),
    ("4900", "Discounts and Credits", "Income", "Contra Revenue", ""),
    ("6100", "Payment Processing Fees", "Expenses", "Bank Fees", ""),
)


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    sku: str
    taxable: bool
    rule_id: str
    revenue_account: str
    description: str


PRODUCTS = (
    Product("P-00001", "Platform Core", "CORE", True, "PR-00001", "4000", "Core platform seats"),
    Product("P-00002", "Analytics Add-on", "ANLY", True, "PR-00002", "4000", "Dashboards"),
    Product("P-00003", "Enterprise Suite", "ENT", True, "PR-00001", "4000", "Enterprise seats"),
    Product("P-00004", "Premium Support", "SUPP", False, "PR-00002", "4000", "24x7 support"),
    Product("P-00005", "Implementation Services", "IMPL", False, "PR-00003", "4200", ""),
    Product("P-00006", "API Calls", "API", True, "PR-00004", "4100", "Metered API usage"),
    Product("P-00007", "Onboarding Workshop", "ONB", False, "PR-00003", "4200", ""),
)
PRODUCT_BY_ID = {product.id: product for product in PRODUCTS}

MONTHS_PER_PERIOD = {
    "Monthly": 1,
    "Quarterly": 3,
    "Semi-annually": 6,
    "Annually": 12,
    "2 Years": 24,
    "3 Years": 36,
}


@dataclass(frozen=True)
class Charge:
    id: str
    plan_id: str
    plan_name: str
    product_id: str
    name: str
    type: str  # "Recurring" | "One time" | "Usage based"
    billing_period: str  # "" for one-time / usage ("Monthly" usage is rated per month)
    pricing_model: str  # "Flat fee" | "Per unit"
    list_price: Decimal  # USD, per unit per billing period
    unit_of_measure: str

    @property
    def months(self) -> int:
        return MONTHS_PER_PERIOD.get(self.billing_period, 0)

    @property
    def product(self) -> Product:
        return PRODUCT_BY_ID[self.product_id]

    @property
    def rule(self) -> RevenueRule:
        return RULES[self.product.rule_id]


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    status: str
    plan_type: str
    charges: tuple[Charge, ...]


def _plan(number: int, name: str, charges: list[tuple], status: str = "Active") -> Plan:
    plan_id = f"PLN-{number:05d}"
    built = tuple(
        Charge(
            id=f"CHG-{charge_no:05d}",
            plan_id=plan_id,
            plan_name=name,
            product_id=product_id,
            name=charge_name,
            type=kind,
            billing_period=period,
            pricing_model=model,
            list_price=Decimal(price),
            unit_of_measure=uom,
        )
        for charge_no, product_id, charge_name, kind, period, model, price, uom in charges
    )
    return Plan(plan_id, name, status, "Standard", built)


PLANS = (
    _plan(
        1,
        "Starter",
        [(1, "P-00001", "Starter seats", "Recurring", "Monthly", "Per unit", "25.00", "Seat")],
    ),
    _plan(
        2,
        "Growth Monthly",
        [(2, "P-00001", "Growth seats", "Recurring", "Monthly", "Per unit", "45.00", "Seat")],
    ),
    _plan(
        3,
        "Growth Annual",
        [
            (
                3,
                "P-00001",
                "Growth seats (annual)",
                "Recurring",
                "Annually",
                "Per unit",
                "480.00",
                "Seat",
            )
        ],
    ),
    _plan(
        4,
        "Business Quarterly",
        [(4, "P-00001", "Business seats", "Recurring", "Quarterly", "Per unit", "150.00", "Seat")],
    ),
    _plan(
        5,
        "Enterprise 2-Year",
        [
            (
                5,
                "P-00003",
                "Enterprise seats (2 years)",
                "Recurring",
                "2 Years",
                "Per unit",
                "1900.00",
                "Seat",
            )
        ],
    ),
    _plan(
        6,
        "Enterprise 3-Year",
        [
            (
                6,
                "P-00003",
                "Enterprise seats (3 years)",
                "Recurring",
                "3 Years",
                "Per unit",
                "2700.00",
                "Seat",
            )
        ],
    ),
    _plan(
        7,
        "Enterprise Annual",
        [
            (
                7,
                "P-00003",
                "Enterprise seats (annual)",
                "Recurring",
                "Annually",
                "Per unit",
                "1000.00",
                "Seat",
            )
        ],
    ),
    _plan(
        8,
        "Analytics Add-on",
        [(8, "P-00002", "Analytics", "Recurring", "Quarterly", "Flat fee", "900.00", "Each")],
    ),
    _plan(
        9,
        "Premium Support",
        [
            (
                9,
                "P-00004",
                "Premium support (semi-annual)",
                "Recurring",
                "Semi-annually",
                "Flat fee",
                "3000.00",
                "Each",
            ),
            (
                10,
                "P-00004",
                "Premium support (annual)",
                "Recurring",
                "Annually",
                "Flat fee",
                "5500.00",
                "Each",
            ),
        ],
    ),
    _plan(
        10,
        "Implementation",
        [(11, "P-00005", "Implementation", "One time", "", "Flat fee", "5000.00", "Each")],
    ),
    _plan(
        11,
        "Onboarding",
        [(12, "P-00007", "Onboarding workshop", "One time", "", "Flat fee", "1200.00", "Each")],
    ),
    _plan(
        12,
        "API Usage",
        [(13, "P-00006", "API calls", "Usage based", "", "Per unit", "0.50", "1k calls")],
    ),
    _plan(
        13,
        "Legacy Basic",
        [(14, "P-00001", "Basic seats", "Recurring", "Monthly", "Per unit", "19.00", "Seat")],
        status="Inactive",
    ),
)
CHARGES = {charge.id: charge for plan in PLANS for charge in plan.charges}

STARTER, GROWTH_M, GROWTH_A, BUSINESS_Q = "CHG-00001", "CHG-00002", "CHG-00003", "CHG-00004"
ENT_2Y, ENT_3Y, ENT_A = "CHG-00005", "CHG-00006", "CHG-00007"
ANALYTICS, SUPPORT_6M, SUPPORT_12M = "CHG-00008", "CHG-00009", "CHG-00010"
IMPLEMENTATION, ONBOARDING, API_USAGE = "CHG-00011", "CHG-00012", "CHG-00013"

# plan switches offered mid-term (old main charge -> new main charge)
SWITCHES = {
    STARTER: GROWTH_M,
    GROWTH_M: STARTER,
    GROWTH_A: ENT_A,
    BUSINESS_Q: GROWTH_A,
    ENT_A: GROWTH_A,
}


@dataclass(frozen=True)
class Coupon:
    """A coupon of the catalogue (ordway-api.md §11.24); subscriptions name it by ``code``."""

    id: str
    code: str
    display_text: str
    discount: int  # percent off, the value a subscription's discount draws
    duration_months: int  # 0 = the whole term
    status: str
    expiration: str  # "" = never expires
    usage_limit: str  # "" = unlimited


COUPONS = (
    Coupon("CPN-00001", "LOYAL5", "Loyalty 5% off", 5, 0, "Active", "", ""),
    Coupon("CPN-00002", "SAVE10", "10% off the first year", 10, 12, "Active", "", ""),
    Coupon("CPN-00003", "ENT15", "Enterprise 15% off", 15, 0, "Active", "", ""),
    Coupon("CPN-00004", "SAVE20", "20% off the first year", 20, 12, "Active", "", "500"),
    Coupon("CPN-00005", "ENT25", "Enterprise 25% off", 25, 0, "Active", "", ""),
    Coupon("CPN-00006", "LAUNCH30", "Launch offer 30% off", 30, 6, "Expired", "2020-12-31", "100"),
)
COUPON_BY_DISCOUNT = {coupon.discount: coupon for coupon in COUPONS if coupon.status == "Active"}
"""The coupon a subscription line with that discount percentage was sold with."""

#: The fee a failed automatic payment costs the customer (a debit memo), in base-currency list
#: price (converted by the price book like every list price).
FAILED_PAYMENT_FEE = Decimal("25.00")
