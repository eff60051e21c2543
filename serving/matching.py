"""CRM matching: a partner's uploaded accounts matched to its scored customers.

Order of priority (DOMAIN.md section 4): domain, then customer name, then customer id.

| method | when | confidence |
|---|---|---|
| ``domain`` | normalised domains are equal | 1.00 |
| ``name`` | normalised names are equal, one customer has it | 0.95 |
| ``name`` | normalised names are equal, k customers have it | 0.95 / k (first by id) |
| ``name_fuzzy`` | rapidfuzz ``token_sort_ratio`` >= the setting (88 by default) | 0.9 x score / 100 |
| ``id`` | the id is one of the partner's CustomerIDs | 0.80 |

Domains are normalised by lower-casing and dropping the scheme, ``www.``, port, path and a
trailing dot; names by folding accents and case, dropping punctuation and legal forms
(Inc, LLC, GmbH...). Only the partner's own customers are candidates.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from serving.errors import bad_request

DOMAIN_HEADERS = ("domain", "website", "web", "url", "site", "email_domain")
NAME_HEADERS = ("name", "account_name", "accountname", "account", "company", "company_name",
                "customer_name", "organization", "organisation")
ID_HEADERS = ("id", "customer_id", "customerid", "account_id", "crm_id")
LEGAL_FORMS = {
    "inc", "incorporated", "llc", "llp", "lp", "ltd", "limited", "corp", "corporation", "co",
    "company", "plc", "gmbh", "ag", "kg", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "oy",
    "ab", "as", "aps", "pty", "pte", "kk", "sl", "the",
}
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise_domain(value: str) -> str:
    """``HTTPS://www.Example.com:443/path`` -> ``example.com``."""
    v = value.strip().lower()
    if "@" in v and "/" not in v:
        v = v.rsplit("@", 1)[1]
    v = re.sub(r"^[a-z][a-z0-9+.-]*://", "", v)
    v = v.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].split(":", 1)[0].rstrip(".")
    if v.startswith("www."):
        v = v[4:]
    return v


def normalise_name(value: str) -> str:
    """``Müller & Söhne GmbH`` -> ``muller sohne``."""
    v = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower()
    v = v.replace("&", " and ")
    words = [w for w in _NON_WORD.split(v) if w]
    kept = [w for w in words if w not in LEGAL_FORMS and w != "and"]
    return " ".join(kept or words)


@dataclass(frozen=True)
class Account:
    """One uploaded CRM row (1-based row number in the file, header excluded)."""

    row: int
    domain: str
    name: str
    id: str


@dataclass(frozen=True)
class Match:
    row: int
    customer_id: str | None
    method: str | None
    confidence: float
    candidates: int = 0


def parse_accounts(text: str, max_rows: int) -> tuple[list[Account], dict[str, str | None]]:
    """Parse the uploaded CSV; 400 with a plain reason when it cannot be used.

    Returns the accounts and which header was taken for domain, name and id.
    """
    if not isinstance(text, str) or not text.strip():
        raise bad_request("the CSV is empty: send a header row (domain, name, id) and one row "
                          "per account")
    if "\x00" in text:
        raise bad_request("the upload is not a text CSV (it contains NUL bytes)")
    text = text.lstrip("\ufeff")
    try:
        sample = text[:4096]
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise bad_request(f"cannot read the CSV header: {exc}") from None
    keys = [h.strip().lower().replace(" ", "_").replace("-", "_") for h in header]

    def pick(names: tuple[str, ...]) -> int | None:
        for n in names:
            if n in keys:
                return keys.index(n)
        return None

    di, ni, ii = pick(DOMAIN_HEADERS), pick(NAME_HEADERS), pick(ID_HEADERS)
    if di is None and ni is None and ii is None:
        raise bad_request(
            f"the CSV header {header[:20]} has no domain, name or id column; name them "
            f"e.g. 'domain', 'name', 'id'",
            domain_headers=list(DOMAIN_HEADERS), name_headers=list(NAME_HEADERS),
            id_headers=list(ID_HEADERS))
    accounts: list[Account] = []
    try:
        for i, rec in enumerate(reader, start=1):
            if not any(x.strip() for x in rec):
                continue
            if len(accounts) >= max_rows:
                raise bad_request(f"too many rows: at most {max_rows} accounts per upload")

            def cell(j: int | None, rec: list[str] = rec) -> str:
                return rec[j].strip() if j is not None and j < len(rec) else ""

            accounts.append(Account(i, cell(di), cell(ni), cell(ii)))
    except csv.Error as exc:
        raise bad_request(f"malformed CSV at line {reader.line_num}: {exc}") from None
    if not accounts:
        raise bad_request("the CSV has a header but no account rows")
    used = {"domain": header[di] if di is not None else None,
            "name": header[ni] if ni is not None else None,
            "id": header[ii] if ii is not None else None}
    return accounts, used


class Matcher:
    """Matches accounts against one partner's customers (id, account name, domain)."""

    def __init__(self, customers: list[tuple[str, str, str]], fuzzy_min_score: float) -> None:
        self.fuzzy_min = fuzzy_min_score
        self.ids = {c for c, _, _ in customers}
        self.by_domain: dict[str, list[str]] = {}
        self.by_name: dict[str, list[str]] = {}
        for cid, name, domain in sorted(customers):
            if domain:
                self.by_domain.setdefault(normalise_domain(domain), []).append(cid)
            if name:
                self.by_name.setdefault(normalise_name(name), []).append(cid)
        self.names = list(self.by_name)

    def match(self, a: Account) -> Match:
        if a.domain:
            hits = self.by_domain.get(normalise_domain(a.domain))
            if hits:
                return Match(a.row, hits[0], "domain", 1.0 / len(hits), len(hits))
        if a.name:
            key = normalise_name(a.name)
            hits = self.by_name.get(key)
            if hits:
                return Match(a.row, hits[0], "name", round(0.95 / len(hits), 4), len(hits))
            if key and self.names:
                best = process.extractOne(key, self.names, scorer=fuzz.token_sort_ratio,
                                          score_cutoff=self.fuzzy_min)
                if best is not None:
                    hits = self.by_name[best[0]]
                    conf = round(0.9 * best[1] / 100 / len(hits), 4)
                    return Match(a.row, hits[0], "name_fuzzy", conf, len(hits))
        if a.id and a.id in self.ids:
            return Match(a.row, a.id, "id", 0.8, 1)
        return Match(a.row, None, None, 0.0, 0)
