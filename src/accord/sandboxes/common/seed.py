"""Deterministic, realistic-looking sample data (no faker dependency)."""

from __future__ import annotations

import random
import uuid

_DROP = str.maketrans("", "", "/&,'\"()!?:;@+ -")


def _words(text: str, sep: str = " ") -> tuple[str, ...]:
    return tuple(w for w in text.split(sep) if w)


FIRST = _words(
    "Alice Bruno Carla Dmitri Elena Farid Grace Hiro Ines Jonas Kamala Liam Maya Nils "
    "Olga Pablo Quinn Rosa Sven Tara Umar Vera Wen Ximena Yusuf Zoe Aaron Bianca Chen "
    "Dalia Emil Fatima Gustav Hana Ivan Jana Kofi Lena Marco Noor"
)
LAST = _words(
    "Andersen Baker Costa Duarte Eriksen Fischer Garcia Hansen Ito Jensen Kowalski "
    "Larsen Moreau Nakamura Olsen Petrov Quist Rossi Schmidt Tanaka Ueda Vargas Weber "
    "Xu Yilmaz Zimmer Brooks Dubois Novak Silva"
)
WORDS = _words(
    "Adatum Alpine Blue Bright Cedar Coastal Contoso Crystal Delta Eagle Evergreen "
    "Fabrikam Falcon Granite Harbor Horizon Iron Juniper Keystone Lakeside Liberty "
    "Maple Meridian Northwind Oak Pacific Pinnacle Prairie Quantum Redwood Ridge "
    "Silver Summit Sunrise Tailspin Trey Union Valley Vertex Willow Wingtip Zenith"
)
KINDS = _words(
    "Trading Supplies Foods Motors Design Works Outfitters Logistics Retail Systems "
    "Traders Furniture Electric Labs Partners"
)
SUFFIXES = ("Inc.", "Ltd.", "LLC", "Corp.", "GmbH", "A/S", "Co.")
STREETS = _words(
    "Main Street|Oak Avenue|Pine Road|Maple Drive|Cedar Lane|Elm Street|"
    "Lake Shore Drive|Hill Road|Park Avenue|Church Street|Market Street|River Road",
    sep="|",
)
CITIES = (
    ("Atlanta", "GA", "US", "31772"),
    ("Chicago", "IL", "US", "61236"),
    ("Seattle", "WA", "US", "98101"),
    ("Miami", "FL", "US", "37125"),
    ("Denver", "CO", "US", "80202"),
    ("Boston", "MA", "US", "02110"),
    ("Toronto", "ON", "CA", "M5H 2N2"),
    ("Vancouver", "BC", "CA", "V6B 1A1"),
    ("London", "", "GB", "W2 8HG"),
    ("Copenhagen", "", "DK", "1100"),
    ("Berlin", "", "DE", "10115"),
    ("Madrid", "", "ES", "28001"),
)
ITEM_NOUNS = _words(
    "Chair Desk Lamp Cabinet Table Shelf Stool Bench Sofa Monitor Keyboard Printer "
    "Router Bicycle Helmet Backpack Kettle Blender Drill Ladder"
)
ITEM_ADJ = _words(
    "Athens Berlin Rome Paris London Sydney Munich Oslo Tokyo Lisbon Amsterdam Vienna "
    "Dublin Prague Geneva"
)


class Gen:
    """Seeded generator: the same seed always yields the same data."""

    def __init__(self, seed: int, salt: str = "") -> None:
        self.rnd = random.Random(f"{seed}:{salt}")
        self.seed = seed

    def guid(self) -> str:
        """A deterministic UUID4-shaped GUID (lowercase)."""
        return str(uuid.UUID(int=self.rnd.getrandbits(128), version=4))

    def pick(self, seq: tuple[str, ...] | list[str]) -> str:
        """One element."""
        return seq[int(self.rnd.random() * len(seq))]

    def randint(self, low: int, high: int) -> int:
        """Integer in [low, high] (cheaper than random.randint)."""
        return low + int(self.rnd.random() * (high - low + 1))

    def person(self) -> tuple[str, str]:
        """(first name, last name)."""
        return self.pick(FIRST), self.pick(LAST)

    def company(self, index: int) -> str:
        """A company name, unique per index (shuffled word combinations, then numbered)."""
        return company_name(self.seed, index)

    def address(self) -> tuple[str, str, str, str, str]:
        """(street line, city, state, country, postal code)."""
        city, state, country, postal = CITIES[int(self.rnd.random() * len(CITIES))]
        return f"{self.randint(1, 9999)} {self.pick(STREETS)}", city, state, country, postal

    def phone(self) -> str:
        """A NANP-style phone number."""
        return f"+1 {self.randint(201, 989)}-555-{self.randint(0, 9999):04d}"

    def email(self, local: str, domain: str) -> str:
        """A lowercase email made of safe characters."""
        clean = local.lower().replace(" ", ".").translate(_DROP)
        dom = domain.lower().replace(".", "").translate(_DROP) or "example"
        return f"{clean.strip('.') or 'info'}@{dom}.example.com"

    def money(self, low: float, high: float) -> float:
        """A price with two decimals."""
        return round(self.rnd.uniform(low, high), 2)

    def chance(self, p: float) -> bool:
        """True with probability ``p``."""
        return self.rnd.random() < p

    def gtin(self) -> str:
        """A 13-digit GTIN with a valid check digit."""
        digits = [self.rnd.randint(0, 9) for _ in range(12)]
        total = sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits))
        return "".join(map(str, digits)) + str((10 - total % 10) % 10)

    def item_name(self) -> str:
        """A product name."""
        return f"{self.pick(ITEM_ADJ)} {self.pick(ITEM_NOUNS)}"


_COMBOS: list[str] = []


def _combos() -> list[str]:
    if not _COMBOS:
        _COMBOS.extend(f"{w} {k} {s}" for s in SUFFIXES for k in KINDS for w in WORDS)
    return _COMBOS


# People who exist in both systems: BC salespeople and Dataverse users share the email.
SALESPEOPLE = (
    ("JR", "Jim Richards", "jim.richards@cronus.example.com"),
    ("PS", "Peter Saddow", "peter.saddow@cronus.example.com"),
    ("KS", "Karen Sadowski", "karen.sadowski@cronus.example.com"),
    ("BC", "Benjamin Chiu", "benjamin.chiu@cronus.example.com"),
    ("RL", "Rosa Lindqvist", "rosa.lindqvist@cronus.example.com"),
)


_MASK = (1 << 64) - 1


def mix(value: int) -> int:
    """splitmix64: a well-spread 64-bit hash of an integer (deterministic across runs)."""
    z = (value + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def company_name(seed: int, index: int) -> str:
    """A company name, unique per index for a given seed."""
    combos = _combos()
    n = len(combos)
    base = combos[(index * 7919 + mix(seed) % n) % n]
    return base if index < n else f"{base} {index // n + 1}"


def customer_party(seed: int, index: int) -> dict[str, str]:
    """The index-th customer-like party of a seed: number, name and contact details.

    A pure function of (seed, index): both sandboxes call it, so Dataverse accounts can carry
    exactly the names and numbers of Business Central customers (for match-based coupling).
    """
    name = company_name(seed, index)
    v = mix(seed * 1_000_003 + index)
    city, state, country, postal = CITIES[v % len(CITIES)]
    v //= len(CITIES)
    street = f"{v % 9999 + 1} {STREETS[(v // 9999) % len(STREETS)]}"
    v //= 9999 * len(STREETS)
    phone = f"+1 {201 + v % 789}-555-{(v // 789) % 10000:04d}"
    words = name.split(" ")
    domain = (words[0] + words[1]).lower().translate(_DROP)
    return {
        "number": f"C{(index + 1) * 10:05d}",
        "name": name,
        "street": street,
        "city": city,
        "state": state,
        "country": country,
        "postal": postal,
        "phone": phone,
        "email": f"info@{domain}.example.com",
        "website": f"www.{domain}.example.com",
    }
