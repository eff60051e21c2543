"""The words of the synthetic web: topic templates per page kind, filler pages and decoys.

Every template is plain text with ``{slot}`` placeholders. Slots are filled from the company
row and a seeded ``random.Random`` so the same mention always reads the same. Nothing here
knows whether a mention is noise: noise and event traces are rendered by the same templates.
The renderer HTML-escapes everything returned from this module.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

from propensity.contracts import EVENT_TOPICS


class Company(NamedTuple):
    """The parts of a ``raw/companies`` row the web shows."""

    customer_id: str
    account_name: str
    domain: str
    employees: int
    city: str
    state: str
    postal_code: str
    country: str
    industry: str
    vertical: str


def seed_int(*parts: object) -> int:
    """A stable 64-bit integer from ``parts`` (blake2b)."""
    h = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(h, "big")


def rng_for(*parts: object) -> random.Random:
    """A ``random.Random`` seeded from ``parts``."""
    return random.Random(seed_int(*parts))


# --------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------

FIRST_NAMES = (
    "Jane", "Tom", "Priya", "José", "Zoë", "Björn", "Søren", "François", "Chloé", "Łukasz",
    "Mehmet", "Aoife", "Siobhán", "Renée", "Jürgen", "Ana", "Kwame", "Mei", "Oliver", "Sarah",
    "David", "Fatima", "Lars", "Noémie", "Mateo", "Hannah", "Raj", "Emily", "Liam", "Grace",
    "Marta", "Ahmed", "Ingrid", "Carlos", "Yuki", "Olumide", "Rachel", "Pádraig", "Elena",
    "Ben", "Sofía", "Niamh", "Tobias", "Amara", "Hélène", "Chris", "Dmitri", "Leah",
)
LAST_NAMES = (
    "Müller", "O'Brien", "García", "Nguyen", "Smith", "Johansson", "Dubois", "Núñez",
    "Kowalski", "Patel", "Jones", "Rossi", "Schäfer", "Brennan", "Okafor", "Lindqvist",
    "Tanaka", "Walsh", "Fernández", "Clarke", "Haddad", "Novák", "Begum", "Ødegaard",
    "Taylor", "Moreau", "Kaur", "Brown", "Hughes", "Kelly", "Weiß", "Andersen", "Murphy",
    "Costa", "Ivanova", "Reid", "Byrne", "Silva", "Khan", "Evans",
)
IT_ROLES = (
    "IT manager", "sysadmin", "IT coordinator", "head of IT", "IT lead", "infrastructure lead",
    "operations manager", "office manager (and accidental IT person)", "IT director",
    "network admin", "IT support lead", "finance & IT manager",
)
SOCIAL_ROLES = (
    "Ops lead", "IT", "Head of Ops", "Founder", "Marketing", "COO", "Office manager",
    "People & culture", "Sales director", "Engineering", "Finance", "Customer success",
)
INVESTORS = (
    "Northgate Ventures", "Bluefield Capital", "Kestrel Partners", "Harbourside Equity",
    "Lumen Ventures", "Aldgate Growth Fund", "Sierra Pine Capital", "Fjord Ventures",
    "Cobalt Street Partners", "Marlowe Capital", "Ironbridge Growth", "Saint-Exupéry Capital",
)
ROUNDS = ("seed", "Series A", "Series A", "Series B", "growth")
EXEC_ROLES = (
    "CTO", "CIO", "Chief Executive Officer", "IT Director", "Head of IT",
    "Chief Technology Officer", "CEO", "Chief Information Officer", "Managing Director",
)
EXCHANGE = (
    ("Exchange 2013", "April 2023"), ("Exchange 2016", "October 2025"),
    ("Exchange 2019", "October 2025"), ("Exchange Server 2016", "October 2025"),
)
WINSRV = (
    ("Windows Server 2012 R2", "October 2023"), ("Windows Server 2012", "October 2023"),
    ("Windows Server 2016", "January 2027"), ("Windows Server 2008 R2", "January 2020"),
)
SQLSRV = (
    ("SQL Server 2012", "July 2022"), ("SQL Server 2014", "July 2024"),
    ("SQL Server 2016", "July 2026"), ("SQL Server 2014 Standard", "July 2024"),
)
ERPS = (
    "Sage 50", "QuickBooks Desktop", "Sage 200", "MYOB AccountRight", "Pegasus Opera",
    "Dynamics NAV 2009", "Sage 100", "an old AS/400 accounting system", "Sage Line 500",
)
CRMS = ("Salesforce", "HubSpot", "Zoho CRM", "Pipedrive", "Salesforce Sales Cloud", "Freshsales")
CLOUDS = ("AWS", "Amazon Web Services", "Google Cloud", "GCP", "AWS", "DigitalOcean")
SUITES = ("Google Workspace", "G Suite", "Zoho Workplace", "Google Workspace", "Gmail and Google Drive")
ATTACKS = ("ransomware attack", "phishing attack", "business email compromise", "ransomware attack")
DEVICES = ("laptops", "tablets", "2-in-1 laptops", "field tablets", "desktops and laptops")
AI_USES = (
    "drafting proposals", "summarising meeting notes", "answering customer emails",
    "searching our internal documents", "writing first drafts of reports",
    "preparing quotes", "triaging support tickets",
)
LOWCODE_APPS = (
    "holiday requests", "site inspections", "expense approvals", "stock checks",
    "onboarding checklists", "delivery sign-offs", "equipment bookings",
)
FILLER_ROLES = (
    "Office Manager", "Receptionist", "Bookkeeper", "Delivery Driver", "Warehouse Operative",
    "Sales Executive", "Marketing Assistant", "Accounts Assistant", "Project Coordinator",
    "Apprentice Technician", "Cleaner (part-time)", "Customer Service Advisor",
    "Payroll Administrator", "Chef de Partie", "Estimator", "Service Engineer",
)
COMPANY_PREFIXES = (
    "Northwind", "Brightpath", "Bluestone", "Kite", "Harbour", "Lumen", "Oakridge",
    "Silverline", "Redfern", "Copperleaf", "Meridian", "Foxglove", "Greystone", "Juniper",
    "Larkspur", "Pinecrest", "Quayside", "Riverbend", "Tidewater", "Westbrook", "Château",
    "Søndergaard", "Alpenglühen", "Marigold", "Hollow Oak", "Starling", "Vantage", "Evergreen",
)
COMPANY_SUFFIXES = (
    "Analytics", "Logistics", "Foods", "Dental", "Engineering", "Studios", "Consulting",
    "Bakery", "Joinery", "Interiors", "Labs", "Outdoor", "Print", "Travel", "Wellness",
    "Robotics", "Brewing Co.", "Architects", "Pharma", "Textiles", "Group", "Media",
)
EVENTS = (
    "the regional trade show", "our customer open day", "a breakfast seminar",
    "the spring networking evening", "a community workshop", "the summer fair",
)
COUNTRY_NAMES = {
    "US": "the United States", "GB": "the UK", "UK": "the UK", "CA": "Canada",
    "AU": "Australia", "DE": "Germany", "FR": "France", "NL": "the Netherlands",
    "IE": "Ireland", "ES": "Spain", "IT": "Italy", "SE": "Sweden", "DK": "Denmark",
    "NO": "Norway", "BE": "Belgium", "AT": "Austria", "CH": "Switzerland", "NZ": "New Zealand",
    "PL": "Poland", "PT": "Portugal", "FI": "Finland", "MX": "Mexico", "BR": "Brazil",
    "IN": "India", "JP": "Japan", "SG": "Singapore", "ZA": "South Africa",
}
CITIES = {
    "US": ("Austin", "Denver", "Raleigh", "Columbus", "Phoenix", "Portland", "Nashville", "Tampa"),
    "GB": ("Leeds", "Bristol", "Manchester", "Glasgow", "Cardiff", "Nottingham", "Brighton"),
    "UK": ("Leeds", "Bristol", "Manchester", "Glasgow", "Cardiff", "Nottingham", "Brighton"),
    "CA": ("Calgary", "Ottawa", "Halifax", "Québec City", "Winnipeg", "Victoria"),
    "AU": ("Brisbane", "Perth", "Adelaide", "Geelong", "Newcastle", "Hobart"),
    "DE": ("München", "Köln", "Düsseldorf", "Leipzig", "Nürnberg", "Hamburg"),
    "FR": ("Lyon", "Nantes", "Toulouse", "Lille", "Bordeaux", "Montpellier"),
    "NL": ("Utrecht", "Eindhoven", "Rotterdam", "Groningen", "Den Haag"),
    "IE": ("Cork", "Galway", "Limerick", "Waterford", "Athlone"),
    "ES": ("Málaga", "Valencia", "Bilbao", "Sevilla", "Zaragoza"),
}
GENERIC_CITIES = ("Lisbon", "Dublin", "Toronto", "Melbourne", "Barcelona", "Amsterdam", "Austin")
CURRENCY = {"US": "$", "CA": "$", "AU": "$", "NZ": "$", "GB": "£", "UK": "£", "IE": "€",
            "DE": "€", "FR": "€", "NL": "€", "ES": "€", "IT": "€", "BE": "€", "AT": "€",
            "PT": "€", "FI": "€"}
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


def person_name(rng: random.Random) -> str:
    """A full name, sometimes with non-ASCII letters."""
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def invented_company(rng: random.Random) -> str:
    """A company name that is not a customer (the caller checks the customer list)."""
    return f"{rng.choice(COMPANY_PREFIXES)} {rng.choice(COMPANY_SUFFIXES)}"


def country_name(code: str, article: bool = True) -> str:
    """The country's name for running text ("the UK"), or for an address without the article."""
    name = COUNTRY_NAMES.get(code.upper(), code)
    return name if article else name.removeprefix("the ")


# --------------------------------------------------------------------------------------
# Slots
# --------------------------------------------------------------------------------------


class Slots(dict):
    """Placeholder values, drawn on first use from a seeded generator and kept for the page."""

    def __init__(self, company: Company, day: dt.date, rng: random.Random) -> None:
        super().__init__()
        self.company = company
        self.day = day
        self.rng = rng

    def __missing__(self, key: str) -> str:
        maker = _SLOT_MAKERS.get(key)
        if maker is None:
            raise KeyError(key)
        value = maker(self)
        self[key] = value
        return value


def _pair(s: Slots, table: tuple[tuple[str, str], ...], a: str, b: str) -> None:
    # prefer versions whose end of support is recent or ahead of the page's date
    recent = [p for p in table if int(p[1][-4:]) >= s.day.year - 1] or list(table)
    x, y = s.rng.choice(recent)
    s[a], s[b] = x, y


def _amount(s: Slots) -> str:
    cur = CURRENCY.get(s.company.country.upper(), "$")
    big = s.company.employees > 200
    value = s.rng.choice(("1.5", "2", "3", "4", "5", "6", "8") + (("12", "15", "20") if big else ()))
    s["amount_short"] = f"{cur}{value}M"
    return f"{cur}{value} million"


def _amount_short(s: Slots) -> str:
    s["amount"]
    return s["amount_short"]


def _new_city(s: Slots) -> str:
    options = [c for c in CITIES.get(s.company.country.upper(), GENERIC_CITIES) if c != s.company.city]
    return s.rng.choice(options or list(GENERIC_CITIES))


def lower_first(x: str) -> str:
    """``x`` lower-cased for use mid-sentence, keeping acronyms such as "IT"."""
    return " ".join(w if len(w) > 1 and w.isupper() else w.lower() for w in x.split(" "))


_SLOT_MAKERS: dict[str, Callable[[Slots], str]] = {
    "company": lambda s: s.company.account_name,
    "city": lambda s: s.company.city,
    "city_upper": lambda s: s.company.city.upper(),
    "state": lambda s: s.company.state,
    "domain": lambda s: s.company.domain,
    "country_name": lambda s: country_name(s.company.country),
    "industry_l": lambda s: lower_first(s.company.industry),
    "vertical_l": lambda s: lower_first(s.company.vertical),
    "employees": lambda s: str(s.company.employees),
    "new_city": _new_city,
    "amount": _amount,
    "amount_short": _amount_short,
    "round": lambda s: s.rng.choice(ROUNDS),
    "investor": lambda s: s.rng.choice(INVESTORS),
    "investor2": lambda s: s.rng.choice([i for i in INVESTORS if i != s["investor"]]),
    "n": lambda s: str(min(80, s.rng.randint(max(4, s.company.employees // 8),
                                             max(8, s.company.employees // 3)))),
    "n_small": lambda s: str(s.rng.randint(3, 8)),
    "exec_role": lambda s: s.rng.choice(EXEC_ROLES),
    "person": lambda s: person_name(s.rng),
    "first": lambda s: s["person"].split(" ")[0],
    "prev_company": lambda s: invented_company(s.rng),
    "exch": lambda s: (_pair(s, EXCHANGE, "exch", "exch_eos"), s["exch"])[1],
    "exch_eos": lambda s: (_pair(s, EXCHANGE, "exch", "exch_eos"), s["exch_eos"])[1],
    "winsrv": lambda s: (_pair(s, WINSRV, "winsrv", "winsrv_eos"), s["winsrv"])[1],
    "winsrv_eos": lambda s: (_pair(s, WINSRV, "winsrv", "winsrv_eos"), s["winsrv_eos"])[1],
    "sql": lambda s: (_pair(s, SQLSRV, "sql", "sql_eos"), s["sql"])[1],
    "sql_eos": lambda s: (_pair(s, SQLSRV, "sql", "sql_eos"), s["sql_eos"])[1],
    "erp": lambda s: s.rng.choice(ERPS),
    "crm": lambda s: s.rng.choice(CRMS),
    "cloud": lambda s: s.rng.choice(CLOUDS),
    "suite": lambda s: s.rng.choice(SUITES),
    "attack": lambda s: s.rng.choice(ATTACKS),
    "devices": lambda s: s.rng.choice(DEVICES),
    "device_n": lambda s: str(max(8, int(s.company.employees * s.rng.uniform(0.4, 1.0)))),
    "old_years": lambda s: str(s.rng.randint(5, 9)),
    "years": lambda s: str(s.rng.randint(6, 14)),
    "ai_use": lambda s: s.rng.choice(AI_USES),
    "lowcode_app": lambda s: s.rng.choice(LOWCODE_APPS),
    "year": lambda s: str(s.day.year),
    "month": lambda s: MONTHS[s.day.month - 1],
    "event": lambda s: s.rng.choice(EVENTS),
    "supplier": lambda s: invented_company(s.rng),
    "role": lambda s: s.rng.choice(FILLER_ROLES),
    "pct": lambda s: str(s.rng.choice((20, 30, 40, 60))),
}


# --------------------------------------------------------------------------------------
# Topic templates: TEMPLATES[topic][page_kind] = [(title, body), ...]
# Bodies may hold several paragraphs separated by blank lines.
# --------------------------------------------------------------------------------------

T = tuple[str, str]

TEMPLATES: dict[str, dict[str, list[T]]] = {
    "funding_round": {
        "blog": [
            ("What our {round} round means for customers",
             "Last week we closed a {amount} {round} round led by {investor}. We wanted to explain, in plain terms, what the new funding means for the people who already work with us: more hands on the support desk, faster delivery and a proper investment in our own systems."),
            ("A new chapter: {amount} to grow {company}",
             "We're thrilled to share that {company} has raised {amount} from {investor} and a handful of angel investors who know the {industry_l} sector well.\n\nThe money goes into hiring, a new operations platform and growing beyond {city}."),
            ("Thank you to everyone who backed us",
             "Raising money is never easy for a business our size. After months of conversations we signed a {round} investment of {amount} with {investor} this month. Here's what we learned along the way, and what happens next."),
            ("Why we took outside investment (finally)",
             "For {years} years we grew on our own revenue. This year we decided to accept {amount} of growth capital from {investor} so we can move faster. Our founder {person} explains the decision."),
        ],
        "news": [
            ("{company} secures {amount} {round} funding",
             "{company} has secured {amount} in {round} funding led by {investor}. The investment will be used to expand the team, upgrade internal systems and reach new markets."),
            ("{company} closes {amount_short} {round}",
             "We are pleased to announce the close of a {amount_short} {round} round with participation from {investor} and {investor2}. Thank you to our customers for making it possible."),
            ("Investment from {investor}",
             "{company} today confirmed a strategic investment from {investor}. The {amount} deal gives us the capital to scale our operations across {country_name}."),
            ("{company} joins the {investor} portfolio",
             "{company} has agreed a growth investment of {amount} from {investor}, which will help the business double in size over the next three years. Day-to-day leadership is unchanged."),
        ],
        "job": [
            ("Operations Manager",
             "We've just closed a {amount} {round} round and we're scaling quickly. As Operations Manager you'll put in place the processes, tools and systems that take us from {employees} people to twice that."),
            ("Finance Manager",
             "Following our recent {round} investment from {investor}, we need an experienced Finance Manager to own monthly reporting to our new board and investors."),
            ("Head of Growth",
             "{company} is backed by {investor} after a {amount} raise this year. You'll lead our expansion into new regions and build a team around you."),
            ("Senior Account Executive",
             "Newly funded and growing: our {round} round gives us the runway to double the sales team. Join early and help shape how we sell."),
        ],
        "press": [
            ("{company} Raises {amount} in {round} Funding Led by {investor}",
             "{company}, a {industry_l} business based in {city}, today announced it has raised {amount} in {round} funding led by {investor}, with participation from {investor2}. The company plans to use the proceeds to expand its team, invest in technology and enter new markets."),
            ("{company} Closes {amount_short} {round} Round to Accelerate Growth",
             "{company} announced the close of a {amount_short} {round} round.\n\n\"This investment lets us move faster for our customers,\" said {person}, founder of {company}. \"We'll be hiring across every team this year.\""),
            ("{investor} Invests {amount} in {company}",
             "{investor} has made a {amount} growth investment in {company}. The partnership will fund new hires and an overhaul of the company's operational systems."),
            ("{company} Secures Growth Capital to Expand Across {country_name}",
             "{company} has secured {amount} of growth capital from {investor} to support its expansion plans. The {city}-based firm employs around {employees} people."),
        ],
        "forum": [
            ("Just got funded - what should we fix first in IT?",
             "We just closed a {round} round (about {amount}) at {company} and suddenly I have budget for the first time. We're ~{employees} people and everything grew organically. Where would you start?"),
            ("Scaling IT after a funding round",
             "Our company raised money this quarter and leadership wants us ready to double headcount within a year. I'm the only IT person. Any advice on what to standardise first?"),
            ("Budget finally approved after investment",
             "Good news: after our {amount} raise the board approved a proper IT budget. Looking for recommendations on identity, device management and backups for a {employees}-person company."),
            ("Post-{round} IT roadmap?",
             "We closed our {round} last month. I need a 12-month IT roadmap for the new board. What did you prioritise at a similar stage?"),
        ],
        "social": [
            ("", "Huge day for {company} — we've raised {amount} ({round}) led by {investor}! Thank you to our team and customers. 🚀"),
            ("", "We closed our {round}! {amount_short} to grow the team and build better tools. More soon."),
            ("", "Proud to share that {company} has secured new funding from {investor}. Onwards."),
            ("", "Funding news: {amount} raised this month. We're hiring across the board, DMs open."),
        ],
    },
    "new_office": {
        "blog": [
            ("We're opening our second office in {new_city}",
             "After years of driving up and down to see customers, we're opening our second office in {new_city} this {month}. It'll start with a small team and room to grow."),
            ("Hello, {new_city}!",
             "Big news from the {company} team: we've signed the lease on a new site in {new_city}. Here's a sneak peek at the floor plan and the people moving in."),
            ("Behind the scenes: fitting out our new location",
             "Desks, cabling, coffee machine: opening a new office is a lot of small decisions. This post follows our move into the new {new_city} premises from empty shell to first day."),
            ("Why we're expanding to {new_city}",
             "More than a third of our customers are now based around {new_city}, so opening a local branch there was the obvious next step for {company}."),
        ],
        "news": [
            ("{company} opens new office in {new_city}",
             "{company} has opened a new office in {new_city}, our first location outside {city}. The team there will serve customers across the region."),
            ("New location now open in {new_city}",
             "Our new {new_city} branch is now open Monday to Friday. Pop in and say hello to the team."),
            ("{company} expands with a new site",
             "We are pleased to announce the opening of a new site in {new_city}, adding space for around {n} staff as the business continues to grow."),
            ("We're moving to a bigger head office",
             "We have outgrown our current premises. From next month the {city} team moves to a larger office with twice the space, and we're adding a second site in {new_city}."),
        ],
        "job": [
            ("Office Manager – New {new_city} Office",
             "We're opening a brand-new office in {new_city} and need an Office Manager to get it up and running: suppliers, facilities, visitors and making the space work for a growing team."),
            ("Branch Manager, {new_city}",
             "{company} is expanding to {new_city}. As Branch Manager you'll open the new location, hire the local team and build relationships with customers in the area."),
            ("IT Support Technician",
             "We're opening a new location in {new_city} and need someone hands-on to set up networking, phones, printers and laptops for the new site, then support both offices."),
            ("Site Lead – {new_city}",
             "Help us launch our second site. You'll be the first person on the ground in {new_city}, working closely with the {city} team."),
        ],
        "press": [
            ("{company} Expands Footprint with New Office in {new_city}",
             "{company} today announced the opening of a new office in {new_city}, expanding its presence beyond its {city} headquarters. The new site will house sales and support staff."),
            ("{company} Opens {new_city} Location to Serve Growing Customer Base",
             "Responding to strong demand, {company} has opened a new location in {new_city}. \"Being closer to our customers matters,\" said {person}."),
            ("{company} Announces Expansion into {new_city}",
             "{company}, a {industry_l} company, has announced its expansion into {new_city} with a new regional office expected to create {n} local jobs."),
            ("{company} Signs Lease for Larger Headquarters",
             "{company} has signed a lease on a larger headquarters in {city} and a satellite office in {new_city}, doubling its floor space."),
        ],
        "forum": [
            ("Setting up IT for a brand new branch office",
             "At {company} we're opening a second office in {new_city} in a couple of months. ~20 people. What's your checklist for networking, printing and phones at a new site?"),
            ("Second office - site to site VPN or something else?",
             "We're adding a new location and I need to connect it to our main office. Site-to-site VPN, SD-WAN, or just put everything in the cloud and skip it?"),
            ("Checklist for opening a new location?",
             "First time opening a new site. Broadband lead times, Wi-Fi survey, door access... anything people usually forget?"),
            ("New office fit-out: network cabling advice",
             "We've signed a lease on a new office and the landlord is letting us spec the cabling. Cat6a everywhere? How many drops per desk?"),
        ],
        "social": [
            ("", "Keys collected! {company} now has a home in {new_city}. 🔑"),
            ("", "Our second office opens next month in {new_city}. Who's local? Come say hi."),
            ("", "Walking around our new {new_city} site today. Empty now, full of people soon."),
            ("", "Expansion news: a new location for {company}, and we need people to fill it."),
        ],
    },
    "hiring_spree": {
        "blog": [
            ("We're hiring — a lot",
             "We plan to hire {n} people over the next few months across customer service, operations and sales. If you've ever thought about working at {company}, now is the time."),
            ("Growing the team: {n} new roles",
             "Demand has never been higher, so we're growing. Here's a look at the {n} roles we're recruiting for and what a typical first week looks like."),
            ("What it's like to join {company} right now",
             "New starters are arriving almost every Monday at the moment. We asked a few of them what the first month was like, and what we could do better as the team grows."),
            ("Doubling the team this year",
             "We started the year at {employees} people. By Christmas we want to be close to double that, and we're hiring across every department."),
        ],
        "news": [
            ("{company} to create {n} new jobs",
             "{company} will create {n} new jobs in {city} over the next twelve months as it responds to record demand."),
            ("Recruitment drive: {n} positions open",
             "We have launched a recruitment drive with {n} open positions across the business. See our careers page for details."),
            ("{company} announces major hiring push",
             "Following a strong year, {company} is growing its workforce by around {pct}% and is recruiting for roles at every level."),
            ("Join us: {n} vacancies in {city}",
             "We're holding an open recruitment day in {city} for our {n} current vacancies. No appointment needed."),
        ],
        "job": [
            ("Customer Service Advisor (multiple positions)",
             "We're hiring {n_small} Customer Service Advisors as part of a big recruitment push this year. Full training provided, and new starters join in groups every month."),
            ("Warehouse Team Members – {n} roles",
             "We're growing fast and need {n} new warehouse team members across day and evening shifts."),
            ("Sales Development Representatives (x{n_small})",
             "We're building out the sales team and hiring {n_small} SDRs at once. You'll join a cohort of new starters with a shared onboarding programme."),
            ("Graduate Intake {year}",
             "Our largest graduate intake ever: we're recruiting {n} graduates into operations, finance and customer roles as the business expands."),
        ],
        "press": [
            ("{company} to Hire {n} Staff as Demand Grows",
             "{company} today announced plans to hire {n} new staff over the coming year, growing its {city} workforce by around {pct}%."),
            ("{company} Launches Recruitment Drive for {n} New Roles",
             "{company} has launched a recruitment drive to fill {n} new roles in {city} and remote positions across {country_name}."),
            ("{company} Plans to Double Headcount",
             "{company} expects to double its headcount within eighteen months, said {person}, adding that hiring is under way across all departments."),
            ("{company} Creates {n} Jobs in {city}",
             "{company} will create {n} jobs at its {city} base, the company confirmed, citing a strong order book."),
        ],
        "forum": [
            ("Onboarding {n} new starters in a month - help",
             "At {company} we're hiring like crazy: {n} new people starting over the next few weeks. How do you handle accounts, laptops and licences at that pace without losing your mind?"),
            ("Hiring spree: how do you provision laptops and accounts fast?",
             "Management just approved a big hiring plan. I need a repeatable way to get a new starter from contract to working laptop in a day. What do you use?"),
            ("Scaling from {employees} users to double that this year",
             "We're about to roughly double headcount. What breaks first at that size? Our onboarding is currently a spreadsheet and me."),
            ("Licensing for lots of new hires",
             "We're adding a lot of users this year because of a hiring push. Any tips on buying licences in bulk without overpaying?"),
        ],
        "social": [
            ("", "We're hiring {n} people at {company} this year. Customer service, ops, sales. Come build with us!"),
            ("", "Fourth new starter this week. Our onboarding buddy list is getting long 😅"),
            ("", "So many open roles at the moment. If you know great people, send them our way."),
            ("", "Recruitment day next week in {city}: {n} vacancies, free coffee."),
        ],
    },
    "hiring_cloud_engineers": {
        "blog": [
            ("We're building a cloud team",
             "Our infrastructure has lived in a server room for a decade. This year we're moving it to Azure, and we're hiring cloud engineers to help us do it properly."),
            ("Why we need DevOps engineers now",
             "Releases used to be a Friday-night ritual. We're hiring two DevOps engineers to automate our build, test and deployment pipelines."),
            ("Meet our new platform team (and join it)",
             "We're forming a small platform team responsible for our cloud infrastructure, monitoring and CI/CD, and we have open roles for cloud and DevOps engineers."),
            ("Moving our infrastructure to the cloud — and hiring for it",
             "Over the next year we'll migrate our workloads to Azure. We're looking for engineers who have done a migration like this before."),
        ],
        "news": [
            ("{company} recruits cloud engineers for infrastructure programme",
             "{company} is recruiting cloud and DevOps engineers to support a multi-year programme to modernise its infrastructure."),
            ("New roles: cloud platform team",
             "We are hiring for our new cloud platform team, including an Azure engineer and a DevOps lead."),
            ("{company} invests in in-house cloud skills",
             "Rather than outsource, {company} is building an in-house team of cloud engineers to run its systems on Azure."),
            ("Now hiring: DevOps and cloud roles",
             "We have several openings for DevOps and cloud infrastructure engineers. Hybrid working from {city}."),
        ],
        "job": [
            ("Azure Cloud Engineer",
             "You'll lead the migration of our on-premises workloads to Azure: landing zone design, networking, identity and cost management. Experience with Azure Resource Manager or Bicep is essential."),
            ("DevOps Engineer",
             "We're looking for a DevOps Engineer to build CI/CD pipelines, manage infrastructure as code with Terraform and look after our Azure environment."),
            ("Cloud Infrastructure Engineer (Azure)",
             "Join our small infrastructure team to design, build and run our Azure platform. You'll work on virtual networks, Azure AD, backup and monitoring."),
            ("Site Reliability Engineer",
             "Help us run our services in the cloud reliably. Kubernetes (AKS), observability, on-call rota shared across a team of four."),
        ],
        "press": [
            ("{company} Builds Cloud Engineering Team",
             "{company} has announced the creation of a cloud engineering team in {city} and is recruiting Azure and DevOps engineers."),
            ("{company} to Hire Cloud and DevOps Specialists",
             "{company} will hire cloud and DevOps specialists as it moves core systems to the cloud, said {person}."),
            ("{company} Launches Cloud Skills Programme and Hiring Drive",
             "{company} is hiring cloud engineers and training existing staff as part of an infrastructure modernisation programme."),
            ("{company} Opens Roles for Cloud Platform Team",
             "A new platform team at {company} will run its infrastructure on Azure; the company is recruiting several engineers."),
        ],
        "forum": [
            ("Hiring our first cloud engineer - what to look for?",
             "We're a {employees}-person company and I finally got approval to hire an Azure engineer. What skills and certs actually matter?"),
            ("Interview questions for a DevOps engineer?",
             "Recruiting a DevOps engineer for the first time at {company}. What do you ask to separate real experience from buzzwords?"),
            ("Contractor vs permanent cloud engineer for a migration",
             "We're planning to move our servers to Azure and are debating hiring a permanent cloud engineer vs a contractor. Experiences?"),
            ("Job description for an Azure engineer - sanity check",
             "Writing a JD for an Azure cloud engineer to run our migration and then the platform. Does landing zones + networking + IaC sound reasonable?"),
        ],
        "social": [
            ("", "Hiring: Azure cloud engineer at {company}. Help us get out of the server room! ☁️"),
            ("", "We're looking for a DevOps engineer who loves Terraform and hates manual deploys."),
            ("", "Building a cloud team from scratch. Engineers, my DMs are open."),
            ("", "New role at {company}: cloud infrastructure engineer, hybrid in {city}."),
        ],
    },
    "exchange_end_of_support": {
        "blog": [
            ("Moving off our old email server",
             "We've run {exch} in our own server cupboard for years. With support ending in {exch_eos}, it's time to move our email somewhere more modern and secure."),
            ("Planning our email migration",
             "Our on-premises {exch} server is reaching end of support. This post explains what changes for staff, and what happens to shared mailboxes and calendars."),
            ("Goodbye to the server under the stairs",
             "It has served us well, but our {exch} server is out of support from {exch_eos}. We're planning a migration over the summer."),
            ("Why our email is changing",
             "No more security updates for {exch} after {exch_eos} means we need to act. Here's our plan and timeline."),
        ],
        "news": [
            ("Planned email maintenance: migrating from {exch}",
             "Over the coming weeks we will migrate staff email from our on-premises {exch} server. Customers should not notice any change."),
            ("Email system upgrade",
             "{company} is replacing its on-premises email server ahead of the end of support for {exch} in {exch_eos}."),
            ("Notice: new email platform",
             "Our email platform is being upgraded because {exch} is reaching end of support. Addresses will stay the same."),
            ("IT update: retiring our Exchange server",
             "We are retiring our in-house Exchange server this year. Expect a short interruption during the cut-over weekend."),
        ],
        "job": [
            ("IT Systems Administrator",
             "You'll lead the migration off our on-premises {exch} before it reaches end of support, then look after our users, devices and servers."),
            ("Infrastructure Engineer (email migration)",
             "Twelve-month contract to move {employees} mailboxes from {exch} on-premises to a cloud service, including archives and shared mailboxes."),
            ("IT Support Engineer",
             "Day-to-day support plus a big project: decommissioning our ageing {exch} server, which goes out of support in {exch_eos}."),
            ("Systems Engineer – Messaging",
             "We need an engineer with Exchange migration experience to plan and run our move off {exch}."),
        ],
        "press": [
            ("{company} Modernises Email Ahead of Exchange End of Support",
             "{company} has begun replacing its on-premises {exch} environment, which reaches end of support in {exch_eos}, as part of a wider IT modernisation."),
            ("{company} Selects Partner for Email Migration",
             "{company} has selected a technology partner to migrate its on-premises {exch} servers before support ends."),
            ("{company} Retires On-Premises Email Servers",
             "{company} announced plans to retire its on-premises email servers, citing the end of support for {exch}."),
            ("{company} Launches IT Modernisation Programme",
             "The first phase of {company}'s IT modernisation programme will move staff email off {exch}, which is no longer supported from {exch_eos}."),
        ],
        "forum": [
            ("Still on {exch} on-prem and support ends {exch_eos} - options?",
             "We're still on {exch} on-prem at {company} and support ends {exch_eos}. About {employees} mailboxes. Hybrid, cutover, or third-party tool?"),
            ("{exch} end of support - migrate or upgrade?",
             "Our {exch} box is out of support soon. Is anyone still doing on-prem upgrades or is everyone moving mail to the cloud?"),
            ("Cutover migration from {exch}, lessons learned?",
             "Planning a cutover from our on-prem Exchange. Any gotchas with public folders and shared calendars?"),
            ("Boss asks why we need to move off Exchange",
             "Our Exchange server works fine, says the boss. How do I explain end of support ({exch_eos}) and the security risk to non-technical management?"),
        ],
        "social": [
            ("", "Still running {exch} on a box under the stairs. Support ends {exch_eos}. Send help. 🙃"),
            ("", "Spent the weekend planning our Exchange migration. Public folders are a crime."),
            ("", "Our on-prem Exchange is about to go out of support, so that's my summer sorted."),
            ("", "PSA to fellow IT folks: if you're still on {exch}, end of support is {exch_eos}."),
        ],
    },
    "windows_server_end_of_support": {
        "blog": [
            ("Retiring our old servers",
             "Several of our core systems still run on {winsrv}, which is out of support from {winsrv_eos}. We're planning to move them over the next year."),
            ("Infrastructure refresh: what's changing",
             "Our file server and line-of-business apps run on {winsrv}. With end of support approaching, we're replacing the hardware and moving workloads to the cloud."),
            ("A decade-old server room gets a rethink",
             "We've been running {winsrv} in our own server room for a long time. End of support forced a proper review of where our systems should live."),
            ("Why we're moving our servers",
             "Unsupported operating systems are a security risk. Our {winsrv} machines reach end of support in {winsrv_eos}, so they have to go."),
        ],
        "news": [
            ("IT infrastructure upgrade",
             "{company} is upgrading its server infrastructure as {winsrv} reaches end of support."),
            ("Planned downtime: server migration",
             "Our internal systems will be unavailable on a weekend next month while we migrate from {winsrv}."),
            ("Modernising our systems",
             "As part of an IT upgrade, we are moving workloads off servers running {winsrv}."),
            ("Server replacement programme",
             "{company} has begun replacing its {winsrv} servers, which are out of support from {winsrv_eos}."),
        ],
        "job": [
            ("Infrastructure Engineer",
             "We need an Infrastructure Engineer to migrate our {winsrv} estate before end of support, whether to new hardware or to the cloud."),
            ("Systems Administrator (Windows)",
             "Look after our Windows environment and lead the upgrade of our {winsrv} servers, which reach end of support in {winsrv_eos}."),
            ("IT Project Engineer – Server Migration",
             "Fixed-term role to move our file, print and application servers off {winsrv}."),
            ("IT Technician",
             "Varied role supporting staff and helping with a server migration project: we still run {winsrv} and support ends soon."),
        ],
        "press": [
            ("{company} Modernises Server Infrastructure",
             "{company} has announced a project to replace its ageing {winsrv} servers, which reach end of support in {winsrv_eos}."),
            ("{company} Moves Core Systems to the Cloud",
             "{company} will move core applications currently hosted on {winsrv} in its own data room to the cloud over the next year."),
            ("{company} Selects IT Partner for Infrastructure Upgrade",
             "{company} has chosen an IT partner to migrate its {winsrv} estate ahead of end of support."),
            ("{company} Invests in IT Resilience",
             "An investment in IT resilience at {company} will see its {winsrv} servers retired and replaced."),
        ],
        "forum": [
            ("{winsrv} end of support - lift and shift to the cloud?",
             "We have {n_small} VMs on {winsrv} at {company}, end of support {winsrv_eos}. Is lift-and-shift to the cloud sensible or should we upgrade in place?"),
            ("Still running {winsrv}, what are my options?",
             "Our line-of-business app only runs on {winsrv}. Vendor won't support newer versions. Extended security updates? Migrate? Pray?"),
            ("In-place upgrade from {winsrv} - worth trying?",
             "Has anyone done in-place upgrades from {winsrv} successfully, or is a clean build the only sane way?"),
            ("Convincing management to replace servers",
             "Our servers run {winsrv} and are out of support in {winsrv_eos}. How did you justify the spend to management?"),
        ],
        "social": [
            ("", "Found a {winsrv} box nobody knew about. End of support {winsrv_eos}. Lovely."),
            ("", "Server migration season at {company}. Goodbye {winsrv}, you will not be missed."),
            ("", "Today's mood: inventorying every server still on {winsrv}."),
            ("", "Our old servers are out of support soon. Cloud or new tin? Discuss."),
        ],
    },
    "sql_server_end_of_support": {
        "blog": [
            ("Upgrading the database behind our systems",
             "Our order system runs on {sql}, which is out of support from {sql_eos}. We're planning the upgrade now so customers don't notice a thing."),
            ("What happens when a database reaches end of support",
             "We use {sql} for our stock and ordering data. With support ending in {sql_eos}, we're moving to a supported platform."),
            ("Behind the scenes: our data platform refresh",
             "Our reporting still runs on an old {sql} instance. This year we're migrating it to a managed database."),
            ("Modernising our data",
             "End of support for {sql} is the push we needed to rethink how we store and report on our data."),
        ],
        "news": [
            ("Systems upgrade: database migration",
             "{company} is migrating its core database from {sql} ahead of end of support."),
            ("Planned maintenance window",
             "Our online ordering will be briefly unavailable while we migrate our database from {sql}."),
            ("Investing in our data platform",
             "We are replacing our {sql} databases, which reach end of support in {sql_eos}."),
            ("IT upgrade programme continues",
             "The next phase of our IT upgrade moves our reporting database off {sql}."),
        ],
        "job": [
            ("Database Administrator",
             "You'll plan and deliver the migration of our {sql} databases before end of support in {sql_eos}, then look after performance and backups."),
            ("Data Engineer",
             "Help us move our reporting off an ageing {sql} instance to a modern managed database and build reliable data pipelines."),
            ("SQL Developer",
             "We need an SQL developer to upgrade stored procedures and reports as we migrate off {sql}."),
            ("BI Analyst",
             "Our reports run on {sql}, which is reaching end of support. You'll help rebuild them on our new data platform."),
        ],
        "press": [
            ("{company} Modernises Data Platform",
             "{company} has started a project to migrate its core databases from {sql}, which reaches end of support in {sql_eos}."),
            ("{company} Moves Databases to Managed Cloud Service",
             "{company} will move its {sql} workloads to a managed cloud database service."),
            ("{company} Partners for Database Upgrade",
             "{company} has appointed a partner to upgrade its {sql} estate ahead of end of support."),
            ("{company} Invests in Data and Reporting",
             "As part of a data investment, {company} will retire its {sql} servers."),
        ],
        "forum": [
            ("{sql} end of support in {sql_eos} - managed instance or VM?",
             "We run our ERP database on {sql} at {company}. Support ends {sql_eos}. Managed instance, SQL on a VM, or upgrade on-prem?"),
            ("Migrating {sql} with minimal downtime",
             "Any tips for migrating a 200 GB {sql} database with minimal downtime? Log shipping? Backup/restore?"),
            ("Compatibility issues upgrading from {sql}",
             "Our vendor app is certified on {sql} only. Anyone upgraded past that and run into compatibility-level problems?"),
            ("Licensing question for moving off {sql}",
             "We have to move off {sql}. How does licensing work if we move to the cloud instead of buying new on-prem licences?"),
        ],
        "social": [
            ("", "{sql} end of support is {sql_eos}. Our reporting server did not get the memo."),
            ("", "Migrating a {sql} database this weekend. Wish me luck 🍀"),
            ("", "Audit finding: unsupported {sql}. Project starts Monday."),
            ("", "If your database is still on {sql}, now is a good time to plan the upgrade."),
        ],
    },
    "legacy_erp_end_of_support": {
        "blog": [
            ("Time to replace our accounting system",
             "We've run {erp} for {years} years. It's reaching the end of its life, and the finance team is choosing a modern, cloud-based replacement."),
            ("Why we're moving on from {erp}",
             "Our version of {erp} will stop receiving updates, and the workarounds have piled up. Here's how we're approaching the switch."),
            ("Finance systems: the big upgrade",
             "{erp} has been the backbone of our finance and stock control. This year we replace it."),
            ("Lessons from choosing a new ERP",
             "Replacing {erp} has meant a lot of demos. Here's what we looked for and what surprised us."),
        ],
        "news": [
            ("New finance system coming",
             "{company} is replacing its {erp} accounting software with a new business management system later this year."),
            ("Notice to suppliers: invoicing changes",
             "We are moving off {erp}. Invoices will look different from next quarter."),
            ("ERP replacement project under way",
             "{company} has started a project to replace {erp}, which is reaching end of life."),
            ("Upgrading our business systems",
             "Our desktop accounting package, {erp}, will be retired and replaced with a cloud system."),
        ],
        "job": [
            ("Finance Systems Analyst",
             "Help us replace {erp} with a modern ERP: requirements, data migration and training the finance team."),
            ("ERP Project Manager",
             "Lead the replacement of our end-of-life {erp} system, from vendor selection through go-live."),
            ("Management Accountant",
             "You'll play a key role in our move from {erp} to a new cloud finance system."),
            ("Business Systems Analyst",
             "We're moving off {erp}. You'll map our processes and make sure nothing is lost in the migration."),
        ],
        "press": [
            ("{company} Selects New ERP to Replace Legacy System",
             "{company} has begun replacing {erp}, its long-standing accounting system, with a cloud-based ERP."),
            ("{company} Modernises Finance Operations",
             "{company} announced a finance modernisation programme to retire {erp}."),
            ("{company} Launches Digital Finance Project",
             "A new project at {company} will move finance and stock control off {erp} by year end."),
            ("{company} Appoints Partner for ERP Migration",
             "{company} has appointed a partner to migrate it from {erp} to a modern ERP platform."),
        ],
        "forum": [
            ("Replacing {erp} - what did you move to?",
             "We've been on {erp} for {years} years at {company} and it's reaching end of life. ~{employees} staff. What did you move to and how painful was it?"),
            ("{erp} end of life - data migration help",
             "Our {erp} version is going out of support. How do you get clean data out of it for a new ERP?"),
            ("Small business ERP recommendations",
             "Need to replace {erp}. We do stock, purchasing and project costing. Budget is modest. Suggestions?"),
            ("Running {erp} on an old desktop, how bad is this",
             "Our finance system is {erp} running on a PC under someone's desk. It's end of life. Time to move?"),
        ],
        "social": [
            ("", "Year {years} of {erp} at {company}. Finally replacing it. Emotional."),
            ("", "ERP demos all week. Anything is better than our end-of-life accounting package."),
            ("", "Our {erp} install is older than our newest hire. Changing that this year."),
            ("", "Finance team is choosing a new ERP to replace {erp}. Recommendations welcome."),
        ],
    },
    "competitor_crm_churn": {
        "blog": [
            ("Why we left {crm}",
             "We used {crm} for {years} years. As we grew, the cost went up and the fit went down. Here's why we decided to leave, and what we're looking for instead."),
            ("Our CRM isn't working for us anymore",
             "Our sales team spends more time fighting {crm} than selling. We're reviewing alternatives this quarter."),
            ("Rethinking how we manage customers",
             "The renewal quote from {crm} was the final straw. We're taking the chance to rethink our whole sales process."),
            ("What we learned from five years of {crm}",
             "Honest lessons from our years on {crm}, including why we're now moving to a different CRM."),
        ],
        "news": [
            ("Changes to how we manage customer accounts",
             "{company} is replacing {crm} with a new CRM platform. Customers may receive updated communication preferences."),
            ("New CRM project",
             "We are moving away from {crm} to a CRM that better fits our growing sales team."),
            ("Sales systems update",
             "{company} will migrate off {crm} this year as part of a sales operations review."),
            ("Improving customer service",
             "To give customers a better experience we're replacing {crm}, which no longer meets our needs."),
        ],
        "job": [
            ("CRM Administrator",
             "Help us replace {crm}: you'll manage the migration to a new CRM and own data quality afterwards."),
            ("Sales Operations Manager",
             "We're moving off {crm} and need someone to design our new pipeline stages, reports and processes."),
            ("CRM Developer",
             "Lead the technical side of our migration away from {crm}: data mapping, integrations and automation."),
            ("Revenue Operations Analyst",
             "Our sales team has outgrown {crm}. You'll help select and implement the replacement."),
        ],
        "press": [
            ("{company} to Replace {crm} as It Overhauls Sales Operations",
             "{company} announced it will replace {crm} as part of a review of its sales and customer service operations."),
            ("{company} Selects New CRM Platform",
             "{company} has completed a review of CRM platforms and will move away from {crm} later this year."),
            ("{company} Consolidates Customer Systems",
             "{company} is consolidating its customer systems and retiring {crm}."),
            ("{company} Modernises Sales Technology",
             "After {years} years on {crm}, {company} is moving to a CRM integrated with its productivity tools."),
        ],
        "forum": [
            ("Moving off {crm} - what did you switch to?",
             "At {company} we've been on {crm} for years and the renewal is eye-watering. ~{n} sales users. What did you switch to?"),
            ("{crm} pricing is out of control",
             "Our {crm} renewal went up again. Anyone successfully migrated away? How long did it take?"),
            ("Migrating CRM data out of {crm}",
             "We're leaving {crm}. Best way to export contacts, deals and activity history without losing relationships?"),
            ("CRM that integrates with Outlook and Teams?",
             "We're ditching {crm}. Want something that works with Outlook and Teams out of the box. Recommendations?"),
        ],
        "social": [
            ("", "Another {crm} renewal, another price rise. We're out. Suggestions for a replacement?"),
            ("", "Our sales team voted: goodbye {crm}. Migration starts next month."),
            ("", "If you've migrated off {crm}, I'd love to buy you a coffee and pick your brain."),
            ("", "CRM demos this week. Anything but {crm}, says the team."),
        ],
    },
    "competitor_cloud_churn": {
        "blog": [
            ("Why we're leaving {cloud}",
             "Our {cloud} bill has doubled in two years. We're moving our workloads to a provider that fits the rest of our tools."),
            ("Rethinking where our systems run",
             "We've hosted on {cloud} since day one. Egress fees and support frustrations mean it's time to look elsewhere."),
            ("Our cloud bill, explained",
             "An honest look at our {cloud} spend and why we're planning a migration to another cloud."),
            ("What we learned running on {cloud}",
             "Lessons from {years} years on {cloud}, and why we're consolidating onto a different platform."),
        ],
        "news": [
            ("Infrastructure migration",
             "{company} is migrating its hosting away from {cloud} this year."),
            ("Planned maintenance: hosting move",
             "Our website and customer portal will move off {cloud} over the coming months."),
            ("Consolidating our cloud providers",
             "We are consolidating our cloud services and moving workloads from {cloud} to a single provider."),
            ("Platform update",
             "As part of a cost review, {company} will move its applications away from {cloud}."),
        ],
        "job": [
            ("Cloud Migration Engineer",
             "Lead the migration of our workloads from {cloud} to a new cloud platform, including networking, storage and identity."),
            ("Platform Engineer",
             "We're leaving {cloud}. You'll rebuild our infrastructure as code on our new cloud provider."),
            ("FinOps Analyst",
             "Our {cloud} costs are out of control. Help us migrate and put proper cost management in place."),
            ("Senior Infrastructure Engineer",
             "Experience moving production systems between clouds (from {cloud}) is a big plus."),
        ],
        "press": [
            ("{company} Migrates Infrastructure from {cloud}",
             "{company} announced it is migrating its infrastructure from {cloud} to reduce costs and integrate with its existing tools."),
            ("{company} Consolidates Cloud Providers",
             "{company} will consolidate its workloads onto a single cloud provider, moving away from {cloud}."),
            ("{company} Selects New Cloud Platform",
             "After a review, {company} has chosen to move its applications off {cloud}."),
            ("{company} Cuts Cloud Costs with Platform Move",
             "{company} expects to cut its hosting costs by {pct}% by moving off {cloud}."),
        ],
        "forum": [
            ("Egress fees on {cloud} are killing us",
             "At {company} our {cloud} egress costs are now bigger than compute. Anyone moved to another cloud for cost reasons?"),
            ("Migrating from {cloud} - experiences?",
             "We're planning to move off {cloud}. How long did your migration take and what surprised you?"),
            ("{cloud} support has been terrible lately",
             "Third outage this quarter and support tickets go nowhere. Seriously considering leaving {cloud}."),
            ("Moving VMs and storage off {cloud}",
             "Any tools that help move VMs and object storage from {cloud} to another provider?"),
        ],
        "social": [
            ("", "Just opened our {cloud} bill. We are leaving {cloud}. 😬"),
            ("", "Cloud migration, round two: moving {company} off {cloud} this year."),
            ("", "Egress fees should be illegal. Planning our exit from {cloud}."),
            ("", "Looking for people who've moved production off {cloud}. What did you learn?"),
        ],
    },
    "competitor_productivity_churn": {
        "blog": [
            ("Why we're changing our email and documents",
             "We've used {suite} since we were five people. Now that we're {employees}, we need better control over documents, meetings and security, so we're moving."),
            ("Leaving {suite}",
             "Our team has outgrown {suite}. Here's why we decided to switch our email, calendars and files to a different suite."),
            ("One place for email, chat and files",
             "Using {suite} alongside a dozen other tools isn't working. We're consolidating onto a single productivity platform."),
            ("Our move away from {suite}",
             "Customers kept sending us documents we couldn't open properly. That, and the renewal price, pushed us to leave {suite}."),
        ],
        "news": [
            ("Changes to our email system",
             "{company} is moving staff email and calendars away from {suite}. Email addresses will not change."),
            ("New collaboration tools for staff",
             "We are replacing {suite} with a new productivity suite across the company."),
            ("IT update: productivity suite migration",
             "{company} will complete its move off {suite} by the end of the quarter."),
            ("Notice: calendar invitations",
             "During our migration from {suite} you may receive duplicate calendar invitations from our staff."),
        ],
        "job": [
            ("IT Administrator",
             "Help us migrate our email, calendars and documents from {suite} to a new suite, then run it."),
            ("IT Project Coordinator",
             "Coordinate our move off {suite}: scheduling, training staff and making sure nothing gets lost."),
            ("Modern Workplace Engineer",
             "Lead the technical migration from {suite}: mailboxes, shared drives and identity."),
            ("IT Support Analyst",
             "Support our staff through a migration away from {suite} and look after day-to-day IT."),
        ],
        "press": [
            ("{company} Moves Workforce off {suite}",
             "{company} announced it is moving its staff from {suite} to a new productivity and collaboration suite."),
            ("{company} Standardises Collaboration Tools",
             "{company} will standardise on a single productivity suite, retiring {suite}."),
            ("{company} Selects New Productivity Platform",
             "{company} has chosen a new productivity platform to replace {suite} for its {employees} staff."),
            ("{company} Modernises Workplace Technology",
             "Moving off {suite} is the first step in {company}'s workplace technology plan."),
        ],
        "forum": [
            ("Migrating {n} mailboxes from {suite} - tips?",
             "We're moving {company} off {suite}. About {n} users plus shared drives. What tools did you use?"),
            ("{suite} to another suite - what breaks?",
             "Planning a migration away from {suite}. What broke for you: calendars, shared drives, forms?"),
            ("Convincing staff to leave {suite}",
             "Our staff love {suite} but management wants to switch. How did you handle the change management?"),
            ("Shared drives migration from {suite}",
             "Best way to move {suite} shared drives with permissions intact?"),
        ],
        "social": [
            ("", "We're moving {company} off {suite} next month. Wish our IT team luck."),
            ("", "Goodbye {suite}. Migration weekend starts Friday. 🫡"),
            ("", "Anyone moved a team off {suite}? Looking for war stories."),
            ("", "Our {suite} renewal came in and we've decided to switch. Big project ahead."),
        ],
    },
    "leadership_change": {
        "blog": [
            ("Welcoming our new {exec_role}, {person}",
             "We're delighted to welcome {person} as our new {exec_role}. {first} joins from {prev_company} and will lead our technology and operations."),
            ("A note from our new {exec_role}",
             "Hello! I'm {person}, and I joined {company} this month as {exec_role}. Here's what I've learned in my first weeks and what I want to change."),
            ("Leadership update",
             "After {years} years, our {exec_role} is stepping down. We're pleased to announce that {person} takes over the role."),
            ("Meet {first}, our new {exec_role}",
             "{person} has joined us as {exec_role}. We sat down with {first} to talk about priorities for the year ahead."),
        ],
        "news": [
            ("{company} appoints {person} as {exec_role}",
             "{company} has appointed {person} as {exec_role}, effective this month. {first} previously worked at {prev_company}."),
            ("Leadership announcement",
             "We are pleased to announce the appointment of {person} as our new {exec_role}."),
            ("New {exec_role} joins {company}",
             "{person} has joined {company} as {exec_role} and will lead our technology strategy."),
            ("Changes to our leadership team",
             "{person} becomes {exec_role} of {company} following the retirement of their predecessor."),
        ],
        "job": [
            ("Executive Assistant to the {exec_role}",
             "Our newly appointed {exec_role}, {person}, needs an organised Executive Assistant to support a busy first year."),
            ("IT Manager",
             "Reporting to our new {exec_role}, you'll help deliver a fresh IT strategy across the business."),
            ("Head of Infrastructure",
             "Our new {exec_role} is reshaping the technology team. You'll own infrastructure and security."),
            ("Chief of Staff",
             "Support our new {exec_role} through a period of change and help turn strategy into action."),
        ],
        "press": [
            ("{company} Appoints {person} as {exec_role}",
             "{company} today announced the appointment of {person} as {exec_role}. {first} joins from {prev_company}, where they led technology and operations."),
            ("{company} Names New {exec_role}",
             "{company} has named {person} its new {exec_role}, effective immediately."),
            ("{person} Joins {company} as {exec_role}",
             "{person} has joined {company} as {exec_role} to lead the next stage of the company's growth."),
            ("{company} Strengthens Leadership Team",
             "{company} has strengthened its leadership team with the appointment of {person} as {exec_role}."),
        ],
        "forum": [
            ("New {exec_role} started and wants a full IT review",
             "We got a new {exec_role} at {company} last month and they want a full review of our IT: costs, security, everything. How do I prepare?"),
            ("New boss, new IT strategy - what to expect?",
             "A new {exec_role} joined us and is already talking about 'cloud first'. What did your first year under a new IT leader look like?"),
            ("Presenting our IT estate to a new {exec_role}",
             "I have to brief our new {exec_role} on our systems next week. What would you include?"),
            ("First 90 days as {exec_role}",
             "Just started as {exec_role} at a {employees}-person company. Inherited a lot of tech debt. Where would you start?"),
        ],
        "social": [
            ("", "Excited to share that I've started a new position as {exec_role} at {company}!"),
            ("", "Welcome {person}, our new {exec_role}! Great to have you on board."),
            ("", "Day one as {exec_role}. Lots to learn, lots to do."),
            ("", "New job news: I've joined {company} as {exec_role}. Grateful for the warm welcome."),
        ],
    },
    "security_incident": {
        "blog": [
            ("An update on the recent security incident",
             "Earlier this month we were hit by a {attack}. We want to explain what happened, what data was affected and what we're doing to make sure it doesn't happen again."),
            ("What we learned from a cyber attack",
             "Nobody thinks it will happen to them. Then a {attack} took our systems offline for three days. Here are the lessons we learned the hard way."),
            ("Strengthening our security",
             "Following a recent {attack}, we're introducing multi-factor authentication, new backups and security training for all staff."),
            ("Our response to the incident",
             "We've completed our investigation into the {attack} that affected some of our systems. Here's a full summary."),
        ],
        "news": [
            ("Notice of data security incident",
             "{company} recently identified a security incident affecting some of our systems. We have notified the relevant authorities and affected customers."),
            ("Service disruption update",
             "Our systems were disrupted by a cyber attack. Services are now restored and we are working with specialists to strengthen our defences."),
            ("Important information for customers",
             "We were the target of a {attack}. Please be cautious of any unusual payment requests that appear to come from us."),
            ("Update following IT incident",
             "Following the recent {attack}, all systems are operating normally. Thank you for your patience."),
        ],
        "job": [
            ("IT Security Analyst",
             "Following a recent {attack}, we're investing in security. You'll own monitoring, incident response and staff awareness."),
            ("Cyber Security Engineer",
             "After a security incident last year, we're building a proper security function. First hire, high impact."),
            ("IT Manager (security focus)",
             "We need an IT Manager to rebuild our systems securely after a {attack}: MFA, endpoint protection, backups."),
            ("Information Security Officer",
             "Help us recover from a recent breach and put an information security programme in place."),
        ],
        "press": [
            ("{company} Confirms Cyber Incident",
             "{company} has confirmed it was the target of a {attack} that disrupted some operations. The company is working with external specialists."),
            ("{company} Statement on Security Incident",
             "{company} has issued a statement following a {attack}. Customer data may have been accessed, and affected customers are being contacted."),
            ("{company} Restores Systems After Attack",
             "{company} said its systems had been restored following a {attack} and that it is investing in stronger security."),
            ("{company} Invests in Security Following Breach",
             "Following a data breach, {company} has announced a security programme including multi-factor authentication and monitoring."),
        ],
        "forum": [
            ("Got hit with ransomware last week - lessons",
             "We got hit with ransomware at {company} last week. Backups saved us, mostly. Sharing what went wrong so you don't repeat it."),
            ("Phishing led to a compromised mailbox - next steps?",
             "One of our finance staff fell for a phishing email and the attacker sent fake invoices from her mailbox. What should we be doing now?"),
            ("After a breach: what security tools actually helped?",
             "We had a {attack} a few weeks ago. Management now has budget for security. What made the biggest difference for you?"),
            ("Ransomware recovery - cyber insurance experiences",
             "Recovering from a ransomware attack. How did your cyber insurer handle it?"),
        ],
        "social": [
            ("", "Rough week at {company}: we were hit by a {attack}. Systems coming back online. Turn on MFA, people."),
            ("", "Never thought it would happen to us. Ransomware. Three days offline. Lessons being learned."),
            ("", "Post-incident review done. We're rebuilding our security from the ground up."),
            ("", "Our finance mailbox got phished last month. Here's what we changed afterwards 🧵"),
        ],
    },
    "ai_adoption": {
        "blog": [
            ("Piloting generative AI assistants",
             "We're running a three-month pilot of generative AI assistants with {n_small} volunteers. Early results on {ai_use} are promising."),
            ("What we learned from a month with AI",
             "We asked our team to try AI assistants for {ai_use}. Here's what worked, what didn't and the rules we're putting in place."),
            ("Our approach to AI at work",
             "Generative AI is changing how small businesses work. Here's how {company} is using it responsibly for {ai_use}."),
            ("Can AI help a {employees}-person company?",
             "We tested AI tools on real work: {ai_use}, meeting notes and internal search. The honest verdict."),
        ],
        "news": [
            ("{company} launches AI pilot",
             "{company} has launched a pilot of generative AI assistants to help staff with {ai_use}."),
            ("Using AI to serve customers faster",
             "We are trialling AI tools that help our team with {ai_use}, so customers get answers faster."),
            ("Our AI policy",
             "As we roll out AI assistants to staff, we've published our policy on responsible use."),
            ("Investing in AI skills",
             "All {company} staff will receive training on generative AI tools this year."),
        ],
        "job": [
            ("AI Product Lead",
             "We're exploring how generative AI can help our staff with {ai_use}. You'll run pilots and turn the best ideas into everyday tools."),
            ("Automation & AI Specialist",
             "Help us roll out AI assistants across the business and measure the time saved on {ai_use}."),
            ("Data & AI Analyst",
             "Join the team piloting generative AI at {company}. You'll prepare our data and evaluate AI tools."),
            ("Digital Transformation Manager",
             "Lead our generative AI programme, from pilot to company-wide adoption."),
        ],
        "press": [
            ("{company} Pilots Generative AI for Staff",
             "{company} has begun a pilot of generative AI assistants for employees, focused on {ai_use}."),
            ("{company} Embraces AI to Boost Productivity",
             "{company} announced it is rolling out AI assistants to staff after a successful pilot."),
            ("{company} Launches AI Programme",
             "A new AI programme at {company} will equip staff with generative AI tools and training."),
            ("{company} Invests in Artificial Intelligence",
             "{company} is investing in artificial intelligence to help its {employees} employees with {ai_use}."),
        ],
        "forum": [
            ("Rolling out AI assistants - data governance?",
             "Management at {company} wants AI assistants for everyone. How do you stop sensitive data ending up where it shouldn't?"),
            ("Anyone piloting generative AI for office staff?",
             "We're about to pilot generative AI for {ai_use}. What licensing and guardrails did you set up?"),
            ("AI assistant pilot: how to measure success?",
             "Running an AI pilot with {n_small} users. How do you measure whether it's worth rolling out?"),
            ("Staff already using ChatGPT - need an official tool",
             "Half our staff already paste stuff into free AI chatbots. We need an approved AI assistant. What are you using?"),
        ],
        "social": [
            ("", "We're piloting AI assistants at {company} for {ai_use}. Early days, but wow."),
            ("", "Week 3 of our generative AI pilot. The meeting summaries alone are worth it."),
            ("", "Writing our company AI policy. Harder than it sounds."),
            ("", "Our team is trying AI tools for {ai_use}. Any tips from others doing this?"),
        ],
    },
    "lowcode_initiative": {
        "blog": [
            ("How we replaced paper forms with apps",
             "Our {lowcode_app} process used paper and spreadsheets. A colleague built a simple low-code app in two weeks, and now we're doing the same for other processes."),
            ("Citizen developers at {company}",
             "We've started training staff to build their own small apps with low-code tools, starting with {lowcode_app}."),
            ("Automating the boring stuff",
             "Approvals used to take days. We automated our {lowcode_app} workflow with a low-code tool, and here's what happened."),
            ("Low-code, big difference",
             "No developers, no big project: how our operations team built an app for {lowcode_app}."),
        ],
        "news": [
            ("Digital forms for customers",
             "{company} is replacing paper forms with digital apps built in-house on a low-code platform."),
            ("Automating our processes",
             "We are automating internal workflows such as {lowcode_app} to spend more time with customers."),
            ("Internal apps programme",
             "{company} has launched a programme to build internal apps with low-code tools."),
            ("Going paperless",
             "Our teams now record {lowcode_app} in a mobile app instead of on paper."),
        ],
        "job": [
            ("Low-code Developer",
             "Build internal apps and automate workflows ({lowcode_app} first) using low-code tools. No full-stack experience needed."),
            ("Business Process Automation Analyst",
             "Find manual processes and automate them with low-code apps and workflows."),
            ("Digital Operations Coordinator",
             "Help our teams replace spreadsheets with simple apps for {lowcode_app} and more."),
            ("Power User / App Builder",
             "Love spreadsheets? We're looking for someone to turn them into proper low-code apps."),
        ],
        "press": [
            ("{company} Digitises Operations with Low-Code Apps",
             "{company} has built a set of internal apps with a low-code platform, starting with {lowcode_app}."),
            ("{company} Automates Workflows",
             "{company} is automating manual workflows across the business using low-code tools."),
            ("{company} Empowers Staff to Build Apps",
             "A citizen developer programme at {company} lets staff build their own workflow apps."),
            ("{company} Goes Paperless",
             "{company} has replaced paper processes, including {lowcode_app}, with mobile apps."),
        ],
        "forum": [
            ("Citizen developers - good idea or chaos?",
             "Management at {company} wants staff to build their own apps with a low-code tool. How do you govern this?"),
            ("Low-code app for {lowcode_app} - which platform?",
             "We want to replace a spreadsheet for {lowcode_app} with a simple app. Which low-code platform did you pick?"),
            ("Automating approvals without developers",
             "We have no developers. What's the easiest way to automate approval workflows?"),
            ("Replacing Access databases",
             "We still have a dozen Access databases. Is low-code the right replacement?"),
        ],
        "social": [
            ("", "Built our first low-code app at {company} today: {lowcode_app}. No more paper!"),
            ("", "Our ops team is building apps now. Citizen developers FTW."),
            ("", "Automated our {lowcode_app} workflow this week. Saved hours already."),
            ("", "Spreadsheet → app in two weeks with low-code. Who else is doing this?"),
        ],
    },
    "device_refresh": {
        "blog": [
            ("Replacing our ageing laptops",
             "Some of our laptops are {old_years} years old and it shows. This year we're replacing {device_n} devices across the company."),
            ("New devices for the team",
             "We're rolling out new {devices} to every member of staff. Here's how we chose them."),
            ("Equipping our field team",
             "Our engineers work on site all day. New rugged {devices} will let them do their paperwork on the go."),
            ("Out with the old",
             "Slow laptops cost more than you think. Why we're refreshing our devices and what we're doing with the old ones."),
        ],
        "news": [
            ("Device upgrade programme",
             "{company} is replacing {device_n} staff devices as part of an IT upgrade."),
            ("Donating our old laptops",
             "As we refresh our laptops, we're donating the old ones (securely wiped) to local schools."),
            ("New tablets for our engineers",
             "Our field engineers are receiving new tablets to speed up visits."),
            ("IT refresh under way",
             "We are rolling out new {devices} across all offices this quarter."),
        ],
        "job": [
            ("IT Technician – Device Rollout",
             "Six-month role to deploy {device_n} new {devices} to staff and retire the old fleet."),
            ("Desktop Support Engineer",
             "We're replacing our ageing laptops. You'll image, deploy and support the new devices."),
            ("IT Asset Coordinator",
             "Manage our device refresh: ordering, tracking, deployment and disposal of old equipment."),
            ("End User Computing Engineer",
             "Lead our laptop and tablet refresh, including Autopilot-style zero-touch deployment."),
        ],
        "press": [
            ("{company} Equips Workforce with New Devices",
             "{company} is rolling out {device_n} new {devices} to its staff."),
            ("{company} Completes Technology Refresh",
             "{company} has replaced its ageing laptop fleet with modern devices."),
            ("{company} Invests in Mobile Workforce",
             "New rugged {devices} will help {company}'s field teams work on site."),
            ("{company} Upgrades Staff Technology",
             "{company} announced an investment in new devices for its {employees} employees."),
        ],
        "forum": [
            ("Laptop refresh for {device_n} users - recommendations?",
             "Replacing {device_n} laptops at {company}, some are {old_years} years old. What are you buying this year?"),
            ("Tablets for field engineers - rugged or cases?",
             "We're getting new tablets for our engineers. Rugged devices or consumer tablets in cases?"),
            ("Zero-touch deployment for a device refresh",
             "Refreshing all our laptops. Has anyone done zero-touch deployment at small scale?"),
            ("Leasing vs buying laptops",
             "Our laptops are ageing and we need to replace them. Lease or buy?"),
        ],
        "social": [
            ("", "{device_n} new laptops arriving at {company} this week. Unboxing party 📦"),
            ("", "Our oldest laptop is {old_years} years old. Not for long."),
            ("", "Device refresh day! New {devices} for the whole team."),
            ("", "If anyone needs {old_years}-year-old laptops (wiped), we're donating ours."),
        ],
    },
}

# Kinds that reuse another kind's templates when a trace lands somewhere unusual.
KIND_FALLBACK = {"home": "news", "blog": "blog", "news": "news", "job": "job",
                 "press": "press", "forum": "forum", "social": "social"}


def _assert_complete() -> None:
    for topic in EVENT_TOPICS:
        for kind in ("blog", "news", "job", "press", "forum", "social"):
            assert len(TEMPLATES[topic][kind]) >= 4, (topic, kind)


_assert_complete()


@lru_cache(maxsize=65536)
def mention(topic: str, page_kind: str, variant: int, company: Company, day: dt.date,
            salt: str) -> tuple[str, tuple[str, ...]]:
    """Title and paragraphs of one topic mention, worded by ``variant``.

    Slot values are drawn from (company, topic, quarter of ``day``, ``salt``) so the pages
    about one event agree on amounts and names.
    """
    kind = KIND_FALLBACK.get(page_kind, "news")
    options = TEMPLATES[topic][kind]
    title, body = options[variant % len(options)]
    q = (day.year, (day.month - 1) // 3)
    slots = Slots(company, day, rng_for(salt, company.customer_id, topic, q))
    return title.format_map(slots), tuple(p.format_map(slots) for p in body.split("\n\n"))


# --------------------------------------------------------------------------------------
# Filler: pages without any topic mention
# --------------------------------------------------------------------------------------

FILLER_BLOG: list[T] = [
    ("5 tips for choosing the right supplier",
     "Choosing the right partner matters. Here are five questions we think every customer should ask before signing anything, from lead times to after-sales support."),
    ("Our team's charity bake sale",
     "Last Friday the {city} team raised money for a local hospice with a bake sale. The lemon drizzle sold out by ten o'clock."),
    ("Customer story: a year of working together",
     "We caught up with one of our longest-standing customers to talk about what has changed in their business this year and how we helped."),
    ("Behind the scenes in {city}",
     "Ever wondered what a normal day looks like at {company}? We followed the team from the first coffee to closing time."),
    ("Our summer opening hours",
     "We'll be open slightly shorter hours during August so the team can take a well-earned break. Urgent requests are covered as always."),
    ("What's new in our range this season",
     "A quick round-up of the products and services we've added this season, and a few we've retired."),
    ("Meet the team: {person}",
     "{first} has been part of {company} for {years} years. We asked about favourite projects, the best advice they've received and the perfect lunch."),
    ("Looking back on a busy few months",
     "It has been a busy few months. Thank you to every customer and supplier who worked with us, and to the team for all their hard work."),
    ("Sustainability at {company}",
     "We've switched to recycled packaging and a renewable energy tariff. Small steps, but they add up."),
    ("Our favourite projects this season",
     "A short look at three projects we were proud of this season, with photos."),
    ("How to get the most from working with us",
     "A few practical tips from our team on getting the best results, based on questions customers ask us most."),
    ("A day at {event}",
     "The team spent the day at {event}. Thanks to everyone who stopped by our stand."),
]
CLOSERS = {
    "blog": (
        "We'll share more here as things progress. As always, thank you to our customers for their feedback.",
        "If you have questions about any of this, your usual contact at {company} will be happy to help.",
        "It has been a busy few months for the whole team, and we're grateful for everyone's hard work.",
        "We'll post an update in a few weeks. Thanks for reading!",
        "Thanks to everyone at {company} who helped make this happen.",
        "Got thoughts? Drop us a line, we read every message.",
    ),
    "news": (
        "For further information, please contact our office in {city}.",
        "{company} is based in {city} and employs around {employees} people.",
        "We will publish further updates on this page.",
        "Customers with questions can contact their account manager in the usual way.",
    ),
}

FILLER_NEWS: list[T] = [
    ("{company} shortlisted for regional business award",
     "We're proud to have been shortlisted for a regional business award in the {industry_l} category."),
    ("Holiday opening times",
     "Please note our opening times over the holiday period. Our team will respond to messages when we return."),
    ("{company} sponsors local youth football team",
     "We are delighted to sponsor the under-12s at our local football club this season."),
    ("New partnership with {supplier}",
     "{company} has agreed a partnership with {supplier} to offer customers a wider range of products."),
    ("Celebrating {years} years in business",
     "This month marks {years} years since {company} opened its doors in {city}. Thank you for your support."),
    ("See us at {event}",
     "Our team will be at {event} this month. Come and say hello."),
    ("Price update for the coming year",
     "Following a review of our costs, some prices will change from the start of next quarter. Existing orders are unaffected."),
    ("Customer survey results",
     "Thank you to everyone who took part in our customer survey. Satisfaction is up again this year."),
    ("{company} achieves ISO 9001 recertification",
     "We have successfully renewed our ISO 9001 quality certification following an external audit."),
    ("Charity of the year announced",
     "Staff have voted for our charity of the year, and fundraising starts next month."),
]
FILLER_JOB_BODY = (
    "We're looking for a reliable, friendly {role} to join our team in {city}. You'll work closely with colleagues across the business.",
    "An opportunity for an experienced {role} to join an established {industry_l} company with a loyal customer base.",
    "Join {company} as a {role}. No two days are the same, and you'll be supported from day one.",
    "We have an opening for a {role}, full-time, based at our {city} premises.",
)
FILLER_JOB_DUTIES = (
    "Keep records accurate and up to date",
    "Be the first point of contact for customers and visitors",
    "Work with suppliers to keep things running smoothly",
    "Support colleagues across the team when it gets busy",
    "Follow health and safety procedures",
    "Prepare simple weekly reports",
    "Take pride in doing things properly",
)
JOB_OFFER = (
    "Competitive salary", "25 days' holiday plus bank holidays", "Pension scheme",
    "Free parking", "Cycle-to-work scheme", "Friendly, supportive team", "Training budget",
    "Flexible start and finish times",
)
DECOYS = (
    "Our end-of-year party was held at the Azure Bay Café, and the desserts were a hit.",
    "Our team celebrated a record quarter with a long lunch.",
    "Please note that our security deposit policy for equipment hire has changed.",
    "We're not hiring at the moment, but we always like to hear from talented people.",
    "The cloud cover didn't stop the team from finishing the charity walk.",
    "Our student exchange programme with a partner school in Lyon continues this year.",
    "New windows were fitted in the showroom over the summer.",
    "Meet Biscuit, the new office dog, who has already claimed the best chair.",
    "The team's annual fishing trip was rained off again.",
    "Thanks to everyone who joined our funding drive for the local food bank.",
    "New laptop bags are now available in our online shop.",
    "Our CEO, {person}, has led the company since {year_founded}.",
    "We migrated our spring catalogue to a new printer, and the colours have never looked better.",
    "The server at our café counter, {first}, makes the best flat white in {city}.",
)
FILLER_PRESS: list[T] = [
    ("{name} Launches New Product Line",
     "{name}, based in {where}, today announced the launch of a new product line for its growing customer base."),
    ("{name} Wins Industry Award",
     "{name} has won an industry award for customer service, the company announced today."),
    ("{name} Announces Partnership with {supplier}",
     "{name} and {supplier} have agreed a partnership to bring their services to more customers."),
    ("{name} Publishes Annual Customer Report",
     "{name} has published its annual customer report, showing satisfaction at a record high."),
    ("{name} to Host Community Open Day",
     "{name} will host a community open day at its {where} premises next month."),
    ("{name} Achieves B Corp Certification",
     "{name} has achieved B Corp certification in recognition of its social and environmental performance."),
    ("{name} Celebrates 25 Years",
     "{name} is celebrating 25 years in business with a series of events for customers and staff."),
    ("{name} Unveils Redesigned Website",
     "{name} has unveiled a redesigned website that makes it easier for customers to find products and book appointments."),
    ("{name} Supports Local Charity",
     "{name} has donated to a local charity as part of its community programme."),
]
FILLER_FORUM: list[T] = [
    ("Printer keeps dropping off the network",
     "Our office printer disappears from the network every few days. Static IP is set. Anyone seen this?"),
    ("Best password manager for a small team?",
     "Looking for a password manager for about 15 people. Shared vaults are a must."),
    ("Wi-Fi dead spots in an old building",
     "Thick stone walls and terrible Wi-Fi. Mesh or more access points with cabling?"),
    ("UPS sizing for a small comms cabinet",
     "What size UPS do I need for a switch, a firewall and a small NAS?"),
    ("Monitor recommendations for office staff",
     "Replacing a few monitors. 24 or 27 inch? Any brands to avoid?"),
    ("VLANs for guest Wi-Fi - sanity check",
     "Setting up a guest network on its own VLAN. Is this config right?"),
    ("Backup rotation for a small business",
     "How many versions do you keep and how often do you test restores?"),
    ("Labelling cables - what do you use?",
     "Our cabinet is spaghetti. What labelling system do you swear by?"),
    ("Help desk tool for a one-person IT team",
     "I need something simple to track requests. Free or cheap preferred."),
    ("Conference room AV that just works",
     "Every meeting starts with ten minutes of cable swapping. What do you use in small meeting rooms?"),
    ("Phone system recommendations",
     "Our old phone system is flaky. Looking for recommendations for about 30 handsets."),
    ("Documenting the network - tools?",
     "I inherited zero documentation. What do you use to document your network?"),
]
FORUM_REPLIES = (
    "We had the same problem last year. Took a while, but it's sorted now.",
    "Following, interested in the answers.",
    "Have you checked the firmware version? That fixed it for us.",
    "Honestly, I'd get a partner in for this one. Not worth the stress.",
    "Start with an inventory. You can't plan what you don't know you have.",
    "We went the other way and don't regret it.",
    "Budget twice what you think and you'll be about right.",
    "Make sure you test the rollback plan before you start.",
    "+1 to the above. Document everything as you go.",
    "Depends a lot on your size, but for us the simple option worked best.",
    "Talk to your users early. The tech is the easy part.",
    "Did this over a long weekend. Would plan more time next time.",
    "Our reseller had a decent guide for this, worth asking yours.",
    "Check licensing before anything else, it caught us out.",
)
FILLER_SOCIAL = (
    "Monday coffee, Monday inbox. Let's go ☕",
    "Great turnout at {event} today. Thanks all!",
    "Team lunch at our favourite spot. Tacos won the vote 🌮",
    "Reminder: back up your files. That's it, that's the post.",
    "Just finished a brilliant book on leadership. Recommendations for the next one?",
    "New blog post up on our site: tips for a calmer Monday.",
    "Friday feeling. Have a good weekend everyone!",
    "Ran a 10k for charity this weekend. Legs: broken. Spirit: high.",
    "Customer said thank you today in the nicest way. Made my week.",
    "Is it just me or are meetings getting longer?",
    "Spring clean of the office done. Found three staplers and a mystery cable.",
    "Our café downstairs now does oat flat whites. Productivity +20%.",
)
SOCIAL_BIOS_GENERIC = (
    "Coffee, spreadsheets and hill walking.", "Opinions my own.", "Dad of two. Runner.",
    "Making small businesses run better.", "Ops nerd. Cyclist.", "Marketing at a small agency.",
    "Plant parent. Occasional baker.", "Building things with good people.",
)


def filler(options: list[T] | tuple[str, ...], company: Company, day: dt.date, *key: object,
           extra: dict[str, str] | None = None) -> tuple[str, str]:
    """A filler title and body (or a body alone for a list of strings), seeded by ``key``."""
    rng = rng_for("filler", *key)
    slots = Slots(company, day, rng)
    if extra:
        slots.update(extra)
    choice = options[rng.randrange(len(options))]
    if isinstance(choice, str):
        return "", choice.format_map(slots)
    title, body = choice
    return title.format_map(slots), body.format_map(slots)


def closer(kind: str, company: Company, day: dt.date, *key: object) -> str | None:
    """A neutral closing paragraph for a blog post or news item, or None."""
    options = CLOSERS.get(kind)
    if not options:
        return None
    rng = rng_for("closer", *key)
    if rng.random() < 0.25:
        return None
    return rng.choice(options).format_map(Slots(company, day, rng))


def decoy(company: Company, day: dt.date, *key: object) -> str:
    """One sentence that uses a signal keyword in an innocent sense."""
    rng = rng_for("decoy", *key)
    slots = Slots(company, day, rng)
    slots["year_founded"] = str(day.year - rng.randint(6, 30))
    return rng.choice(DECOYS).format_map(slots)
