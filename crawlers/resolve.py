"""Entity resolution: which customer a page about "some company" is about.

Pages on the press wire, the forum and the social feed name companies in their own words.
:class:`CompanyIndex` matches them to the customer table in three steps, most certain first:

1. **domain**: a customer's domain named on the page (a link, an e-mail address, "visit
   example.com"); confidence 0.98;
2. **exact name**: the normalised name (case, accents, punctuation and "&"/"and" folded;
   legal forms such as Ltd, GmbH or S.p.A. dropped for the "core" name) found in the subject
   fields (an "About X" heading, a signature, a profile) or, for multi-word names written as
   a proper noun, in the text; confidence 0.95 (full name) or 0.9 (core name);
3. **fuzzy name**: ``rapidfuzz`` similarity of the subject fields' name spans to the core
   names, accepted at >= 90 with a clear margin over the runner-up; confidence score/100 - 0.1.

A name shared by several customers is **ambiguous**: it is resolved only if exactly one of
them has its head-office city on the page (confidence 0.8); otherwise it stays unresolved and
is counted, never guessed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process

# Legal forms, normalised (lower case, no punctuation), longest first when matched.
LEGAL_FORMS: tuple[str, ...] = (
    "gmbh and co kg", "gmbh co kg", "co kg", "sp z o o", "s de rl de cv", "sa de cv", "pty ltd",
    "pty limited", "pte ltd", "co ltd", "company limited", "and co", "limited", "ltd", "llc",
    "llp", "lp", "plc", "inc", "incorporated", "corp", "corporation", "company", "co", "gmbh",
    "ag", "kg", "ug", "ohg", "ek", "sa", "sas", "sasu", "sarl", "eurl", "snc", "spa", "srl",
    "srls", "sl", "slu", "bv", "nv", "vof", "cv", "ab", "as", "asa", "aps", "oy", "oyj", "hf",
    "kk", "pty", "pte", "bhd", "sdn bhd", "lda", "se", "sro", "as", "kft", "zrt", "doo", "ad",
    "ooo", "pllc", "pc", "pa", "ltda",
)
_LEGAL_SET = frozenset(LEGAL_FORMS)
_LEGAL_RE = re.compile(r"(?:\s+(?:" + "|".join(sorted({re.escape(f) for f in LEGAL_FORMS},
                                                      key=len, reverse=True)) + r"))+\s*$")
_DOMAIN_RE = re.compile(
    r"(?<![\w@.-])(?:https?://)?(?:www\.)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"[a-z]{2,12})(?![\w-])", re.I)
_EMAIL_RE = re.compile(r"[\w.+-]+@((?:[a-z0-9-]+\.)+[a-z]{2,12})\b", re.I)
_CONNECTORS = {"and", "of", "the", "de", "van", "von", "der", "den", "du", "la", "le", "di",
               "da", "del", "y", "et", "und", "&", "for"}


def normalize(name: str) -> str:
    """Lower case, accents folded, ``&`` as ``and``, punctuation dropped, spaces collapsed."""
    s = unicodedata.normalize("NFKD", name)
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = s.replace("ß", "ss").replace("ø", "o").replace("Ø", "o").replace("æ", "ae")
    s = s.replace("&", " and ").replace("+", " and ")
    s = s.casefold()
    s = re.sub(r"(?<=\b[a-z])\.(?=[a-z]\b)", "", s)  # s.p.a -> spa, s.a. -> sa
    s = re.sub(r"[^\w\s]", " ", s)
    s = re.sub(r"_", " ", s)
    return " ".join(s.split())


def core_name(name: str, keep_case: bool = False) -> str:
    """``name`` without its legal form (``Müller Bäckerei GmbH`` -> ``muller backerei``).

    With ``keep_case`` the original spelling is kept and only trailing legal-form words are
    cut (used to mask a company's own name in its pages).
    """
    if not keep_case:
        n = normalize(name)
        core = _LEGAL_RE.sub("", n).strip()
        return core or n
    words = name.split()
    changed = True
    while changed:
        changed = False
        for k in (4, 3, 2, 1):
            if len(words) > k and normalize(" ".join(words[-k:])) in _LEGAL_SET:
                words = words[:-k]
                changed = True
                break
        while len(words) > 1 and normalize(words[-1]) in ("", "and"):
            words = words[:-1]
            changed = True
    return " ".join(words).rstrip(" ,.&")


def domains_in(text: str) -> list[str]:
    """Domains named in ``text`` (links, e-mail addresses, bare ``example.co.uk``), in order."""
    out: list[str] = []
    for m in _EMAIL_RE.finditer(text):
        out.append(m.group(1).lower())
    for m in _DOMAIN_RE.finditer(text):
        d = m.group(1).lower().rstrip(".")
        if d.startswith("www."):
            d = d[4:]
        out.append(d)
    seen: set[str] = set()
    return [d for d in out if not (d in seen or seen.add(d))]


@dataclass(frozen=True)
class Company:
    """The fields of a customer that resolution uses."""

    customer_id: str
    name: str
    domain: str
    city: str = ""
    country: str = ""


@dataclass(frozen=True)
class Resolution:
    """Outcome of resolving one page: ``status`` is resolved, ambiguous or unresolved."""

    status: str
    customer_id: str | None = None
    domain: str | None = None
    confidence: float = 0.0
    method: str = ""
    candidates: tuple[str, ...] = ()

    @property
    def resolved(self) -> bool:
        return self.status == "resolved"


UNRESOLVED = Resolution("unresolved")


class CompanyIndex:
    """Domains and names of every customer, for resolving mentions on shared sources."""

    def __init__(self, companies: Iterable[Company], max_words: int = 8) -> None:
        self.companies: dict[str, Company] = {}
        self.by_domain: dict[str, str] = {}
        self.by_full: dict[str, set[str]] = {}
        self.by_core: dict[str, set[str]] = {}
        for c in companies:
            self.companies[c.customer_id] = c
            d = (c.domain or "").strip().lower()
            if d:
                self.by_domain[d[4:] if d.startswith("www.") else d] = c.customer_id
            full = normalize(c.name)
            core = core_name(c.name)
            if full:
                self.by_full.setdefault(full, set()).add(c.customer_id)
            if core:
                self.by_core.setdefault(core, set()).add(c.customer_id)
        self.max_words = max_words
        self._core_list = list(self.by_core)

    def __len__(self) -> int:
        return len(self.companies)

    @classmethod
    def from_lake(cls, lake_root: str | Path) -> CompanyIndex:
        """Build the index from ``raw/companies`` of the lake at ``lake_root``."""
        from propensity.contracts import COMPANIES
        from propensity.lake import Lake

        t = Lake(lake_root).read(COMPANIES, columns=["customer_id", "account_name", "domain",
                                                     "city", "country"])
        cols = [t.column(n).to_pylist() for n in t.column_names]
        return cls(Company(cid, name or "", dom or "", city or "", country or "")
                   for cid, name, dom, city, country in zip(*cols, strict=True))

    # -- lookups ---------------------------------------------------------------------------
    def customer_of_domain(self, domain: str) -> str | None:
        """The customer whose domain (or a subdomain of it) is ``domain``."""
        d = domain.lower().strip(".")
        if d.startswith("www."):
            d = d[4:]
        while d:
            if d in self.by_domain:
                return self.by_domain[d]
            if "." not in d:
                return None
            d = d.split(".", 1)[1]
            if d.count(".") == 0:
                return None
        return None

    def _names_in(self, text: str, proper_only: bool) -> list[set[str]]:
        """Candidate sets of the names found in ``text``, longest match first, no overlaps.

        With ``proper_only`` (free text), a match must be written as a proper noun (each
        word capitalised except connectors) and single-word core names need their legal form.
        """
        raw_words = re.findall(r"[\w&'’.-]+", text)
        words, orig = [], []
        for w in raw_words:
            n = normalize(w)
            for part in n.split():
                words.append(part)
                orig.append(w)
        found: list[set[str]] = []
        i = 0
        while i < len(words):
            hit = None
            for n in range(min(self.max_words, len(words) - i), 0, -1):
                phrase = " ".join(words[i:i + n])
                cands = self.by_full.get(phrase)
                kind = "full"
                if not cands:
                    cands = self.by_core.get(phrase)
                    kind = "core"
                if not cands:
                    continue
                if proper_only:
                    if kind == "core" and n == 1:
                        continue
                    if not all(o[:1].isupper() or o[:1].isdigit() or normalize(o) in _CONNECTORS
                               for o in orig[i:i + n]):
                        continue
                    if not orig[i][:1].isupper() and not orig[i][:1].isdigit():
                        continue
                hit = (n, cands)
                break
            if hit:
                found.append(set(hit[1]))
                i += hit[0]
            else:
                i += 1
        return found

    def _disambiguate(self, cands: set[str], context: str) -> str | None:
        ctx = normalize(context)
        hits = [c for c in cands
                if self.companies[c].city and
                re.search(r"\b" + re.escape(normalize(self.companies[c].city)) + r"\b", ctx)]
        return hits[0] if len(hits) == 1 else None

    def _fuzzy(self, span: str) -> tuple[set[str], float] | None:
        core = core_name(span)
        if len(core) < 4 or not self._core_list:
            return None
        res = process.extract(core, self._core_list, scorer=fuzz.ratio, limit=2,
                              score_cutoff=85)
        if not res or res[0][1] < 90:
            return None
        if len(res) > 1 and res[1][1] >= res[0][1] - 3 and res[1][0] != res[0][0]:
            return set().union(*(self.by_core[r[0]] for r in res)), res[0][1]
        return set(self.by_core[res[0][0]]), res[0][1]

    # -- resolution -----------------------------------------------------------------------
    def resolve(self, subjects: Sequence[str] = (), text: str = "",
                domains: Sequence[str] = ()) -> Resolution:
        """Resolve a page: ``subjects`` are short fields that name the page's company (most
        telling first), ``text`` the page's text, ``domains`` domains linked from the page."""
        # 1. domains
        doms = list(domains) + [d for s in subjects for d in domains_in(s)] + domains_in(text)
        by_dom = []
        for d in doms:
            cid = self.customer_of_domain(d)
            if cid and cid not in by_dom:
                by_dom.append(cid)
        if len(by_dom) == 1:
            return self.match(by_dom[0], 0.98, "domain")
        context = " ".join([*subjects, text])
        ambiguous: set[str] = set()
        # 2. exact names: subject fields first, then the text
        for fields, proper in ((subjects, False), ([text], True)):
            sets: list[set[str]] = []
            for f in fields:
                for cands in self._names_in(f, proper_only=proper):
                    if cands not in sets:
                        sets.append(cands)
                if sets:
                    break  # the most telling field that names a company wins
            if by_dom:
                sets = [s & set(by_dom) for s in sets if s & set(by_dom)] or sets
            if not sets:
                continue
            if len(sets) > 1:
                ambiguous = set().union(*sets)
                break
            cands = sets[0]
            if len(cands) == 1:
                cid = next(iter(cands))
                full = normalize(self.companies[cid].name)
                conf = 0.95 if full in normalize(context) else 0.9
                return self.match(cid, conf, "name")
            cid = self._disambiguate(cands, context)
            if cid:
                return self.match(cid, 0.8, "name+city")
            ambiguous = cands
            break
        if ambiguous:
            return Resolution("ambiguous", candidates=tuple(sorted(ambiguous)))
        # 3. fuzzy, on the subject fields only
        for s in subjects:
            for span in _name_spans(s):
                res = self._fuzzy(span)
                if res is None:
                    continue
                cands, score = res
                if len(cands) == 1:
                    return self.match(next(iter(cands)), round(score / 100 - 0.1, 3), "fuzzy")
                cid = self._disambiguate(cands, context)
                if cid:
                    return self.match(cid, 0.75, "fuzzy+city")
                return Resolution("ambiguous", candidates=tuple(sorted(cands)))
        return UNRESOLVED

    def match(self, cid: str, conf: float, method: str) -> Resolution:
        """A resolved outcome for customer ``cid``."""
        c = self.companies[cid]
        return Resolution("resolved", cid, c.domain or None, conf, method)


_SPAN_SPLIT = re.compile(r"\s*(?:[|·•,;:()\[\]!?]|\s-\s|\.\s|\.$|\s@\s?|@|\bat\b|\bfor\b)\s*")


def _name_spans(field: str) -> list[str]:
    """Candidate name spans of a subject field (``"CTO @ Foo Ltd. Runner."`` -> ``Foo Ltd``)."""
    spans = []
    for part in _SPAN_SPLIT.split(field):
        part = part.strip(" .-")
        if len(part) >= 4 and any(ch.isupper() for ch in part[:1]):
            spans.append(part)
    return spans
