"""Industries, verticals and realistic account names and domains for small businesses.

Names mix the shapes real CRMs hold (family names, place-and-trade names, invented
compounds, professional partnerships) and include near-duplicates: different companies whose
names differ by a word, a legal form or a spelling, which entity resolution must not merge.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

# industry -> (weight, verticals, trade words used in names)
INDUSTRIES: dict[str, tuple[float, tuple[str, ...], tuple[str, ...]]] = {
    "Professional Services": (0.16, ("Accounting", "Legal", "Consulting", "Architecture", "Marketing agencies"),
                              ("Consulting", "Advisors", "Partners", "Associates", "Accountants", "Law", "Architects", "Agency")),
    "Retail": (0.11, ("Specialty retail", "E-commerce", "Grocery", "Apparel"),
               ("Outfitters", "Market", "Goods", "Boutique", "Supply", "Store")),
    "Manufacturing": (0.10, ("Industrial machinery", "Food processing", "Metal fabrication", "Plastics", "Electronics"),
                      ("Manufacturing", "Fabrication", "Industries", "Engineering", "Components", "Works")),
    "Healthcare": (0.10, ("Clinics", "Dental practices", "Home care", "Pharmacies", "Veterinary"),
                   ("Dental", "Clinic", "Health", "Medical", "Care", "Physio", "Vets")),
    "Construction": (0.08, ("Residential building", "Civil engineering", "Electrical contractors", "Plumbing and HVAC"),
                     ("Builders", "Construction", "Contractors", "Electrical", "Plumbing", "Roofing")),
    "Hospitality": (0.07, ("Restaurants", "Hotels", "Catering", "Travel agencies"),
                    ("Kitchen", "Bistro", "Hotel", "Catering", "Travel", "Café")),
    "Financial Services": (0.07, ("Insurance brokers", "Wealth management", "Credit unions", "Payments"),
                           ("Financial", "Capital", "Wealth", "Insurance", "Mortgage", "Finance")),
    "Technology": (0.09, ("Software", "IT services", "Managed services", "Digital agencies"),
                   ("Software", "Systems", "Labs", "Digital", "Technologies", "IT", "Data")),
    "Education": (0.05, ("Private schools", "Training providers", "Tutoring"),
                  ("Academy", "Learning", "School", "Tutors", "Training")),
    "Wholesale & Distribution": (0.06, ("Food distribution", "Industrial supplies", "Auto parts"),
                                 ("Distribution", "Wholesale", "Trading", "Traders", "Imports", "Logistics")),
    "Transportation & Logistics": (0.05, ("Trucking", "Freight forwarding", "Couriers"),
                                   ("Logistics", "Freight", "Transport", "Haulage", "Couriers")),
    "Real Estate": (0.04, ("Property management", "Real estate agencies"),
                    ("Properties", "Realty", "Estates", "Property", "Lettings")),
    "Nonprofit": (0.02, ("Charities", "Associations"), ("Foundation", "Trust", "Association", "Society")),
}

SURNAMES: tuple[str, ...] = (
    "Harper", "Bennett", "Okafor", "Nguyen", "Schmidt", "Müller", "Rossi", "García", "Kowalski",
    "O'Brien", "Murphy", "Patel", "Shah", "Chen", "Larsen", "Dubois", "Moreau", "Fischer",
    "Weber", "Jansen", "de Vries", "Silva", "Costa", "Novak", "Hughes", "Price", "Walsh",
    "Fletcher", "Marsh", "Holloway", "Ramirez", "Kim", "Park", "Singh", "Haddad", "Cohen",
    "Lindqvist", "Brennan", "Whitaker", "Castillo", "Romano", "Bauer", "Keller", "Ivanova",
    "Mendes", "Abbott", "Carver", "Dalton", "Ellison", "Foster", "Gallagher", "Hale", "Irving",
    "Jennings", "Kendall", "Lowe", "Mercer", "Nash", "Osborne", "Pryce", "Quinn", "Rowe",
    "Sutton", "Thorne", "Upton", "Vance", "Wade", "Yates", "Zimmer", "Achterberg", "Björk",
    "Søren", "Nakamura", "Tanaka", "Adeyemi", "Mensah", "Kaur", "Dimitrov", "Horvat",
)

PLACE_WORDS: tuple[str, ...] = (
    "Northwind", "Blue Harbor", "Redwood", "Silver Lake", "Granite", "Cedar", "Oakridge",
    "Summit", "Riverside", "Lakeside", "Harbor", "Pinecrest", "Maple", "Ironbridge", "Westgate",
    "Eastfield", "Southbank", "Highland", "Meadow", "Stonebridge", "Kingsway", "Bayview",
    "Clearwater", "Fairview", "Greenfield", "Brookside", "Hillcrest", "Coastal", "Alpine",
    "Prairie", "Canyon", "Evergreen", "Willow", "Aspen", "Juniper", "Falcon", "Beacon",
    "Anchor", "Compass", "Lighthouse", "Keystone", "Crescent", "Horizon", "Pioneer", "Heritage",
    "Liberty", "Sterling", "Copper", "Amber", "Sapphire", "Azure Bay", "Golden Gate", "Elmwood",
)

COMPOUND_A: tuple[str, ...] = (
    "Bright", "Clear", "True", "Swift", "Smart", "Blue", "Green", "Bold", "Prime", "Next",
    "Nova", "Agile", "Vivid", "Peak", "Core", "Apex", "Zen", "Terra", "Aqua", "Lumen", "Opti",
    "Cloud", "Data", "Flex", "Pro", "Metro", "Urban", "Solid", "Quick", "Happy",
)
COMPOUND_B: tuple[str, ...] = (
    "path", "point", "line", "wave", "works", "bridge", "field", "stone", "light", "spark",
    "logic", "sphere", "grid", "nest", "mark", "leaf", "loop", "core", "way", "hub", "craft",
    "scale", "stack", "forge", "mint", "vista", "pulse", "tide",
)

FIRST_NAMES: tuple[str, ...] = (
    "Anna", "Ben", "Carla", "David", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Kara", "Liam", "Maya", "Noah", "Olga", "Pedro", "Rosa", "Sam", "Tariq", "Uma", "Victor",
    "Wen", "Yusuf", "Zoe", "Chloé", "Jürgen", "Siobhan", "Mateo", "Priya", "Oluwaseun",
)


def slugify(text: str) -> str:
    """ASCII, lower-case, hyphenated form of ``text`` for domains."""
    t = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    t = re.sub(r"[^a-zA-Z0-9]+", "-", t.lower()).strip("-")
    return re.sub(r"-{2,}", "-", t)


def _pick(rng: np.random.Generator, seq: tuple[str, ...]) -> str:
    # rng.random() is far cheaper than rng.choice() on a tuple, which matters at 1M names
    return seq[int(rng.random() * len(seq))]


def base_name(rng: np.random.Generator, industry: str) -> str:
    """A name without legal form, in one of several real-world shapes."""
    trade = INDUSTRIES[industry][2]
    shape = rng.random()
    if shape < 0.25:
        return f"{_pick(rng, SURNAMES)} {_pick(rng, trade)}"
    if shape < 0.33:
        return f"{_pick(rng, FIRST_NAMES)} {_pick(rng, SURNAMES)} {_pick(rng, trade)}"
    if shape < 0.55:
        return f"{_pick(rng, PLACE_WORDS)} {_pick(rng, trade)}"
    if shape < 0.75:
        name = f"{_pick(rng, COMPOUND_A)}{_pick(rng, COMPOUND_B)}"
        return name if rng.random() < 0.5 else f"{name} {_pick(rng, trade)}"
    if shape < 0.88:
        a, b = _pick(rng, SURNAMES), _pick(rng, SURNAMES)
        if a == b:
            b = SURNAMES[(SURNAMES.index(a) + 1) % len(SURNAMES)]
        return f"{a} & {b}" if rng.random() < 0.6 else f"{a} & {b} {_pick(rng, trade)}"
    return f"{_pick(rng, SURNAMES)} {_pick(rng, ('Brothers', 'Family', 'and Sons', 'Group'))}"


def near_duplicate(rng: np.random.Generator, name: str, industry: str) -> str:
    """A different company's name that a careless matcher would confuse with ``name``."""
    trade = INDUSTRIES[industry][2]
    words = name.split()
    r = rng.random()
    if r < 0.3 and len(words) >= 2:
        alt = tuple(w for w in trade if w != words[-1])
        return " ".join([*words[:-1], _pick(rng, alt)])
    if r < 0.5:
        return f"{name} {_pick(rng, ('Group', 'Services', 'Solutions', 'International'))}"
    if r < 0.7 and len(words) >= 2 and words[0][0].isupper() and len(words[0]) > 6:
        w = words[0]
        cut = len(w) // 2
        return " ".join([w[:cut] + " " + w[cut].upper() + w[cut + 1:], *words[1:]])
    if r < 0.85:
        return f"{name} {_pick(rng, ('North', 'South', 'West', 'East', 'Central'))}"
    return f"The {name}"


def partner_name(rng: np.random.Generator) -> str:
    """A reseller's trading name."""
    a = rng.choice(PLACE_WORDS + COMPOUND_A)
    b = rng.choice(("IT Solutions", "Cloud Partners", "Technology Group", "Systems",
                    "Managed Services", "Digital", "Networks", "Business Solutions", "Consulting"))
    return f"{a} {b}"
