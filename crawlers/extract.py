"""Signal extraction: from what a page shows to intent topics, dates and evidence.

Three pure parts, all free of Scrapy so they are easy to test and reuse:

- :func:`page_content` turns an HTML document into its main text (title and text blocks,
  boilerplate such as navigation, sidebars, "recent posts" widgets and footers removed), the
  published date it shows, and the language it declares;
- :class:`Taxonomy` is the intent taxonomy, loaded from ``taxonomy.yaml`` (a data file data
  scientists edit without touching code): topics with product areas, rules of phrases and
  weights, exclusions, and technology fingerprints;
- :class:`Extractor` applies a taxonomy to a page's text (``topics``) or markup
  (``technologies``) and returns :class:`TopicHit` objects with a score, a confidence and an
  evidence snippet of at most 280 characters.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import lxml.html
import yaml
from lxml import etree

from propensity.contracts import PRODUCTS, TOPIC_BY_ID

TAXONOMY_PATH = Path(__file__).with_name("taxonomy.yaml")
EVIDENCE_MAX = 280

# --------------------------------------------------------------------------------------
# Taxonomy
# --------------------------------------------------------------------------------------


class TaxonomyError(ValueError):
    """The taxonomy file is malformed; the message names the topic and the rule."""


@dataclass(frozen=True)
class Rule:
    """All ``patterns`` must hit the same window of sentences; the rule then adds ``weight``."""

    name: str
    patterns: tuple[re.Pattern[str], ...]
    weight: float
    where: str = "any"  # "any" or "title": where the rule may match
    case_sensitive: bool = False  # match the original text instead of its lower case


@dataclass(frozen=True)
class TopicSpec:
    """One topic of the taxonomy."""

    id: str
    product_areas: tuple[str, ...]
    signal_type: str
    pages: frozenset[str]
    rules: tuple[Rule, ...]
    exclude: tuple[re.Pattern[str], ...]
    min_score: float


@dataclass(frozen=True)
class Technology:
    """A technology fingerprint: patterns searched in a page's markup and headers."""

    name: str
    topic: str
    weight: float
    patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class Taxonomy:
    """The intent taxonomy: topics, technologies and scoring settings."""

    topics: tuple[TopicSpec, ...]
    technologies: tuple[Technology, ...]
    window: int = 2
    min_score: float = 1.0
    version: str = "1"
    source: str = ""

    @classmethod
    def load(cls, path: str | Path | None = None) -> Taxonomy:
        """Read and validate a taxonomy file (default: the ``taxonomy.yaml`` shipped here)."""
        p = Path(path) if path else TAXONOMY_PATH
        with p.open(encoding="utf-8") as f:
            data = yaml.safe_load(f)
        return cls.from_dict(data, source=str(p))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "") -> Taxonomy:
        """Build a taxonomy from its parsed YAML; raise :class:`TaxonomyError` naming the fault."""
        if not isinstance(data, Mapping) or "topics" not in data:
            raise TaxonomyError(f"{source}: expected a mapping with a 'topics' key")
        scoring = data.get("scoring") or {}
        min_score = float(scoring.get("min_score", 1.0))
        window = int(scoring.get("window", 2))
        vocab = {k: _alternation(v, f"vocab.{k}") for k, v in (data.get("vocab") or {}).items()}
        topics = []
        for tid, spec in data["topics"].items():
            where = f"{source}: topic {tid!r}"
            if tid not in TOPIC_BY_ID:
                raise TaxonomyError(f"{where}: unknown topic id (known: {sorted(TOPIC_BY_ID)})")
            areas = tuple(spec.get("product_areas") or ())
            bad = [a for a in areas if a not in PRODUCTS]
            if not areas or bad:
                raise TaxonomyError(f"{where}: product_areas must be products, got {list(areas)}")
            rules = []
            for i, r in enumerate(spec.get("rules") or ()):
                pats = r.get("all") or ([r["any"]] if "any" in r else None)
                if not pats:
                    raise TaxonomyError(f"{where}: rule {i} has no 'all' or 'any' patterns")
                cs = bool(r.get("case_sensitive", False))
                rules.append(Rule(
                    name=str(r.get("name", f"rule{i}")),
                    patterns=tuple(_compile(_expand(p, vocab, where), where, lower=not cs)
                                   for p in pats),
                    weight=float(r.get("weight", 1.0)),
                    where=str(r.get("where", "any")),
                    case_sensitive=cs,
                ))
            topics.append(TopicSpec(
                id=tid,
                product_areas=areas,
                signal_type=str(spec.get("signal_type") or TOPIC_BY_ID[tid].signal_type),
                pages=frozenset(spec.get("pages") or ()),
                rules=tuple(rules),
                exclude=tuple(_compile(_expand(p, vocab, where), where, lower=True)
                              for p in spec.get("exclude") or ()),
                min_score=float(spec.get("min_score", min_score)),
            ))
        techs = []
        for t in data.get("technologies") or ():
            where = f"{source}: technology {t.get('name')!r}"
            if t.get("topic") not in TOPIC_BY_ID:
                raise TaxonomyError(f"{where}: unknown topic {t.get('topic')!r}")
            techs.append(Technology(
                name=str(t["name"]), topic=str(t["topic"]), weight=float(t.get("weight", 1.0)),
                patterns=tuple(_compile(_expand(p, vocab, where), where)
                               for p in t.get("patterns") or ()),
            ))
        return cls(topics=tuple(topics), technologies=tuple(techs), window=window,
                   min_score=min_score, version=str(data.get("version", "1")), source=source)

    def topic(self, topic_id: str) -> TopicSpec:
        for t in self.topics:
            if t.id == topic_id:
                return t
        raise KeyError(topic_id)


_VOCAB_REF = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def _alternation(items: Any, where: str) -> str:
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list) or not items:
        raise TaxonomyError(f"{where}: expected a non-empty list of alternatives")
    return "(?:" + "|".join(str(i) for i in items) + ")"


def _expand(pattern: str, vocab: Mapping[str, str], where: str) -> str:
    def sub(m: re.Match[str]) -> str:
        if m.group(1) not in vocab:
            raise TaxonomyError(f"{where}: unknown vocabulary {{{m.group(1)}}} in {pattern!r}")
        return vocab[m.group(1)]

    return _VOCAB_REF.sub(sub, str(pattern))


def _compile(pattern: str, where: str, lower: bool = False) -> re.Pattern[str]:
    """Compile a taxonomy pattern. Text patterns (``lower``) are matched against lower-cased
    text without IGNORECASE (three times faster), so their literals are lower-cased here;
    technology patterns keep IGNORECASE."""
    try:
        if lower:
            return re.compile(_lower_pattern(pattern))
        return re.compile(pattern, re.IGNORECASE | re.MULTILINE)
    except re.error as exc:
        raise TaxonomyError(f"{where}: bad pattern {pattern!r}: {exc}") from exc


def _lower_pattern(pattern: str) -> str:
    """Lower-case a regex's literals, leaving escapes (``\\S``, ``\\W``, ``\\B``...) alone."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(pattern[i: i + 2])
            i += 2
            continue
        out.append(c.lower())
        i += 1
    return "".join(out)


@lru_cache(maxsize=4)
def load_taxonomy(path: str | None = None) -> Taxonomy:
    """The taxonomy at ``path`` (default: the shipped one), parsed once per process."""
    return Taxonomy.load(path)


# --------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicHit:
    """A topic read off a page: its score, confidence and the evidence that carries it."""

    topic: str
    product_areas: tuple[str, ...]
    signal_type: str
    score: float
    confidence: float
    evidence: str
    rules: tuple[str, ...] = ()


_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9¡¿À-ÖØ-Þ])|\n+")


_ABBREV = re.compile(r"(?:^|\s)(?:co|corp|inc|ltd|llc|plc|bros|dr|mr|mrs|ms|st|no|nos|vs|"
                     r"approx|dept|est|etc|e\.g|i\.e|jr|sr|ave|rd|mt|ft|fig|sq|u\.s|p\.a|s\.a|"
                     r"b\.v|n\.v|a\.g|s\.p\.a|s\.l|s\.r\.l|[a-z])\.$", re.I)


def sentences(blocks: Iterable[str]) -> list[str]:
    """Split text blocks into sentences (a block boundary always ends a sentence).

    A period after a common abbreviation or legal form ("Co.", "Ltd.", "Dr.", "S.A.")
    does not end a sentence, so "joined Foo & Co. KG as CEO" stays whole.
    """
    out: list[str] = []
    for b in blocks:
        pending = ""
        for s in _SENT_SPLIT.split(b):
            s = s.strip()
            if not s:
                continue
            s = f"{pending} {s}" if pending else s
            if _ABBREV.search(s):
                pending = s
                continue
            pending = ""
            out.append(s)
        if pending:
            out.append(pending)
    return out


def confidence(score: float, min_score: float) -> float:
    """Map a rule score to [0, 1): just reaching the threshold gives about 0.65."""
    return round(min(0.99, 1.0 - 0.5 ** (1.5 * score / max(min_score, 1e-9))), 3)


def clip(text: str, limit: int = EVIDENCE_MAX) -> str:
    """``text`` with whitespace collapsed, cut at a word boundary to at most ``limit`` chars."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    sp = cut.rfind(" ")
    if sp > limit * 0.6:
        cut = cut[:sp]
    return cut.rstrip(" ,;:-") + "…"


class Extractor:
    """Applies a :class:`Taxonomy` to pages: topics from text, technologies from markup."""

    def __init__(self, taxonomy: Taxonomy | None = None) -> None:
        self.taxonomy = taxonomy or load_taxonomy()
        # every distinct pattern once, so a page is scanned once per pattern; the value says
        # whether it reads the original text (True) or its lower case (False)
        self._patterns: dict[re.Pattern[str], bool] = {}
        for t in self.taxonomy.topics:
            for r in t.rules:
                for p in r.patterns:
                    self._patterns[p] = self._patterns.get(p, False) or r.case_sensitive
            for p in t.exclude:
                self._patterns.setdefault(p, False)
        # a rule's patterns are tried shortest first (the specific, cheap ones: a product
        # name before a long list of verbs) and the rule stops at its first miss; each
        # pattern scans a page at most once
        self._plan = tuple(
            (t, tuple((r, tuple(sorted(r.patterns, key=lambda p: len(p.pattern))))
                      for r in t.rules))
            for t in self.taxonomy.topics)

    def topics(self, title: str, blocks: Sequence[str], page_kind: str,
               mask: Iterable[str] = ()) -> list[TopicHit]:
        """Topics the page's text states. ``title`` is the page's headline (may be empty).

        ``mask`` holds names (e.g. the company's own) replaced by "the company" before
        matching, so a firm called "Azure Bay Ltd" or "Cloudnest" does not read as a topic.

        A rule matches a window of ``taxonomy.window`` consecutive sentences when each of its
        patterns hits one of them; a window's score for a topic is the sum of the weights of
        its matching rules, zero if an exclusion hits it. A topic fires when its best window
        reaches the topic's ``min_score``; that window is the evidence.
        """
        sents = ([title] if title else []) + sentences(blocks)
        if not sents:
            return []
        low = [s.lower() for s in sents]
        for name in _mask_names(tuple(mask)):
            if any(name in x for x in low):
                low = [x.replace(name, "the company") for x in low]
        texts = {False: "\n".join(low), True: "\n".join(sents)}
        starts: dict[bool, list[int]] = {}
        for key, parts in ((False, low), (True, sents)):
            pos, st = 0, []
            for x in parts:
                st.append(pos)
                pos += len(x) + 1
            starts[key] = st
        memo: dict[re.Pattern[str], set[int]] = {}

        def hits(pat: re.Pattern[str]) -> set[int]:
            """Indices of the sentences ``pat`` hits (computed once per page)."""
            found = memo.get(pat)
            if found is None:
                cs = self._patterns[pat]
                text = texts[cs]
                if pat.search(text) is None:
                    found = set()
                else:
                    st = starts[cs]
                    found = {bisect.bisect_right(st, m.start()) - 1
                             for m in pat.finditer(text)}
                memo[pat] = found
            return found

        w = max(1, self.taxonomy.window)
        has_title = bool(title)
        out = []
        for topic, plan in self._plan:
            if topic.pages and page_kind not in topic.pages:
                continue
            scores: dict[int, float] = {}
            names: dict[int, list[str]] = {}
            for rule, patterns in plan:
                windows: set[int] | None = None
                for p in patterns:
                    s = hits(p)
                    if not s:
                        windows = None
                        break
                    if rule.where == "title":
                        ws = {0} if (has_title and 0 in s) else set()
                    else:
                        ws = {j - k for j in s for k in range(w) if j - k >= 0}
                    windows = ws if windows is None else windows & ws
                    if not windows:
                        break
                if not windows:
                    continue
                for i in windows:
                    scores[i] = scores.get(i, 0.0) + rule.weight
                    names.setdefault(i, []).append(rule.name)
            if not scores:
                continue
            for p in topic.exclude:
                for j in hits(p):
                    for k in range(w):
                        scores.pop(j - k, None)
            if not scores:
                continue
            best = max(scores, key=lambda i: (scores[i], -i))
            score = scores[best]
            if score < topic.min_score:
                continue
            evidence = " ".join(sents[best: best + w])
            out.append(TopicHit(topic.id, topic.product_areas, topic.signal_type, score,
                                confidence(score, topic.min_score), clip(evidence),
                                tuple(names[best])))
        return out

    def technologies(self, assets: Sequence[str]) -> list[TopicHit]:
        """Technology topics from a page's markup: ``assets`` are attribute values (script
        sources, stylesheet and link targets, meta contents), inline script text and
        ``Header: value`` lines. One hit per topic; evidence names the technology and the
        asset that carries it."""
        text = "\n".join(a.replace("\n", " ") for a in assets)
        best: dict[str, tuple[float, str, list[str]]] = {}
        for tech in self.taxonomy.technologies:
            m = next((m for p in tech.patterns if (m := p.search(text))), None)
            if m is None:
                continue
            score, ev, names = best.get(tech.topic, (0.0, "", []))
            names.append(tech.name)
            score += tech.weight
            if not ev:
                start = text.rfind("\n", 0, m.start()) + 1
                end = text.find("\n", m.end())
                line = text[start: end if end >= 0 else len(text)]
                ev = f"{tech.name}: {_around(line, m.start() - start, m.end() - start)}"
            best[tech.topic] = (score, ev, names)
        out = []
        for topic_id, (score, ev, names) in best.items():
            min_score = self.taxonomy.min_score
            if score < min_score:
                continue
            spec = TOPIC_BY_ID[topic_id]
            out.append(TopicHit(topic_id, spec.product_areas, spec.signal_type, score,
                                confidence(score, min_score), clip(ev), tuple(names)))
        return out


@lru_cache(maxsize=1024)
def _mask_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """Lower-cased names to mask (each name and its core without legal form), longest first."""
    from crawlers.resolve import core_name

    out = set()
    for n in names:
        n = " ".join((n or "").split()).lower()
        if len(n) < 4:
            continue
        out.add(n)
        core = core_name(n, keep_case=True).lower()
        if len(core) >= 4:
            out.add(core)
    return tuple(sorted(out, key=len, reverse=True))


def _around(text: str, start: int, end: int, width: int = 200) -> str:
    """At most ``width`` characters of ``text`` around ``text[start:end]``."""
    if len(text) <= width:
        return text
    a = max(0, min(start - width // 2, len(text) - width))
    return text[a: a + width]


# --------------------------------------------------------------------------------------
# HTML: main content, assets, dates
# --------------------------------------------------------------------------------------

_DROP_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "form", "nav",
              "header", "footer", "aside", "button", "select", "head")
_NEGATIVE = re.compile(
    r"(?:^|[\s_-])(?:side|sidebar|widgets?|menu|nav|navbar|navigation|breadcrumbs?|footer|"
    r"header|masthead|colophon|cookie|consent|share|sharing|social|related|recent|comments?|"
    r"banner|promo|advert|ads|newsletter|subscribe|signature|author|byline|pagination|pager|"
    r"skip|site-title|site-branding|brand|logo|toolbar|notice)(?:$|[\s_-])", re.I)
_POSITIVE = re.compile(
    r"(?:^|[\s_-])(?:article|content|entry|post|story|release|body|main|text|cooked|job|"
    r"description|page-content|entry-content|post-content|post-body)(?:$|[\s_-])", re.I)
_BLOCK_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "blockquote", "td", "th", "dd",
               "dt", "pre", "figcaption", "summary")


@dataclass
class PageContent:
    """What a page shows: headline, main text blocks, date, language, links."""

    url: str
    title: str
    blocks: list[str]
    published: dt.date | None
    lang: str | None
    canonical: str | None = None
    links: list[tuple[str, str]] = field(default_factory=list)  # (href, text) in main content
    site_name: str | None = None

    @property
    def text(self) -> str:
        return "\n".join([self.title, *self.blocks]) if self.title else "\n".join(self.blocks)


def clean_markup(text: str) -> str:
    """``text`` ready for libxml2: on very large pages, comments are dropped (libxml2 gives
    up on long runs of them, and a padding comment cut short, without ``-->``, would
    swallow the rest of the page; what follows it is kept instead)."""
    if len(text) > 300_000 and "<!--" in text:
        text = _COMMENT.sub("", text)
        text = _OPEN_COMMENT.sub("", text)
    return text


def parse_html(text: str) -> lxml.html.HtmlElement:
    """Parse an HTML document leniently (never raises on odd markup)."""
    text = clean_markup(text)
    if not text.strip():
        text = "<html></html>"
    try:
        return lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return lxml.html.document_fromstring(text.encode("utf-8", "replace"))


def _cls(el: lxml.html.HtmlElement) -> str:
    return f"{el.get('class', '')} {el.get('id', '')} {el.get('role', '')}".strip()


def _norm(s: str) -> str:
    return " ".join(s.split())


def main_element(doc: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """The element holding the page's main content (article, main, or the densest block)."""
    body = doc.find("body")
    if body is None:
        body = doc
    for xp in ("//article", "//main", "//*[@role='main']", "//*[@itemprop='articleBody']"):
        found = [e for e in doc.xpath(xp) if not _NEGATIVE.search(_cls(e))]
        if found:
            return max(found, key=lambda e: len(e.text_content()))
    best, best_len = None, 0
    for el in body.iter("div", "section"):
        c = _cls(el)
        if not c or _NEGATIVE.search(c) or not _POSITIVE.search(c):
            continue
        n = sum(len(p.text_content()) for p in el.iter("p", "h1", "h2", "li"))
        if n > best_len:
            best, best_len = el, n
    return best if best is not None else body


def _link_density(el: lxml.html.HtmlElement) -> float:
    total = len(el.text_content().strip())
    if not total:
        return 0.0
    linked = sum(len(a.text_content().strip()) for a in el.iter("a"))
    return linked / total


def page_content(html: str | lxml.html.HtmlElement, url: str = "",
                 prefer_title: bool = True) -> PageContent:
    """The main content of an HTML page: see :class:`PageContent`.

    Boilerplate is removed by tag (nav, header, footer, aside, forms, scripts), by class or id
    (sidebars, widgets, menus, comments, signatures, ...) and by link density (lists that are
    mostly links, e.g. "recent posts").
    """
    doc = parse_html(html) if isinstance(html, str) else html
    lang = doc.get("lang") or None
    canonical = None
    for ln in doc.iter("link"):
        if (ln.get("rel") or "").lower() == "canonical" and ln.get("href"):
            canonical = ln.get("href").strip()
            break
    published = published_date(doc, lang)
    html_title = _norm(doc.findtext(".//title") or "")
    main = main_element(doc)
    title = ""
    for tag in ("h1", "h2"):
        for h in main.iter(tag):
            if any(a.tag in ("nav", "aside", "footer") or _NEGATIVE.search(_cls(a))
                   for a in h.iterancestors() if a is not main and a.tag != "header"):
                continue
            if _norm(h.text_content()):
                title = _norm(h.text_content())
                h.drop_tree()
                break
        if title:
            break
    for el in list(main.iter(*_DROP_TAGS)):
        if el is not main and el.getparent() is not None:
            el.drop_tree()
    for el in list(main.iter()):
        if el is main or not isinstance(el.tag, str) or el.getparent() is None:
            continue
        if _NEGATIVE.search(_cls(el)):
            el.drop_tree()
    if not title and prefer_title:
        title = re.split(r"\s+[|–—-]\s+", html_title)[0] if html_title else ""
    blocks: list[str] = []
    links: list[tuple[str, str]] = []
    for el in main.iter(*_BLOCK_TAGS):
        if any(a.tag in _BLOCK_TAGS for a in el.iterancestors() if a is not main):
            continue  # nested block: its text is in the ancestor's
        if el.tag in ("li", "td", "dd") and _link_density(el) > 0.6:
            continue
        t = _norm(el.text_content())
        if t and not _is_dateline(t):
            blocks.append(t)
    for a in main.iter("a"):
        href = a.get("href")
        if href:
            links.append((href, _norm(a.text_content())))
    if not blocks:
        t = _norm(main.text_content())
        if t:
            blocks.append(t)
    return PageContent(url=url, title=title, blocks=blocks, published=published, lang=lang,
                       canonical=canonical, links=links, site_name=site_name(doc, html_title))


_COMMENT = re.compile(r"<!--.*?-->\s*", re.S)
_OPEN_COMMENT = re.compile(r"<!--[^<]*")
_DATELINE_WORDS = re.compile(
    r"\b(?:published|posted|updated|on|by|min|mins|minute|minutes|read|at|am|pm|utc|gmt)\b|"
    r"[\d:/.,·|•–—-]+", re.I)


def _is_dateline(text: str) -> bool:
    """A block that only shows a date (and perhaps "Published" or "3 min read")."""
    if len(text) > 60 or parse_date(text) is None:
        return False
    rest = _DATELINE_WORDS.sub(" ", text)
    rest = " ".join(w for w in rest.split() if w.lower().rstrip(".") not in _MONTHS)
    return len(rest.split()) <= 1


def site_name(doc: lxml.html.HtmlElement, html_title: str = "") -> str | None:
    """The site's own name: ``og:site_name``, else the last part of a "Page | Site" title."""
    for m in doc.iter("meta"):
        if (m.get("property") or m.get("name") or "").lower() in ("og:site_name",
                                                                   "application-name"):
            v = _norm(m.get("content") or "")
            if v:
                return v
    parts = re.split(r"\s+[|–—]\s+|\s+-\s+", html_title)
    if len(parts) >= 2 and 2 < len(parts[-1]) <= 80:
        return parts[-1].strip()
    return None


_ASSET_ATTRS = ("src", "href", "content", "action", "data-src", "data-href", "data-cbid")


def page_assets(html: str | lxml.html.HtmlElement, headers: Mapping[str, str] | None = None,
                ) -> list[str]:
    """Markup a technology can show in: attribute values, inline scripts, response headers."""
    doc = parse_html(html) if isinstance(html, str) else html
    out: list[str] = []
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in _ASSET_ATTRS:
            v = el.get(attr)
            if v and (attr != "content" or "." in v or "/" in v):
                out.append(v.strip())
        if el.tag == "meta" and el.get("name"):
            out.append(f"meta {el.get('name')}={el.get('content', '')}")
        if el.tag == "script" and el.text and el.text.strip():
            out.append(el.text.strip()[:4000])
    for k, v in (headers or {}).items():
        out.append(f"{k}: {v}")
    return out


# -- dates -------------------------------------------------------------------------------

_MONTHS = {m: i for i, names in enumerate(
    (("jan", "january", "janvier", "januar", "enero", "gennaio"),
     ("feb", "february", "février", "fevrier", "februar", "febrero", "febbraio"),
     ("mar", "march", "mars", "märz", "marz", "marzo"),
     ("apr", "april", "avril", "abril", "aprile"),
     ("may", "mai", "mayo", "maggio"),
     ("jun", "june", "juin", "juni", "junio", "giugno"),
     ("jul", "july", "juillet", "juli", "julio", "luglio"),
     ("aug", "august", "août", "aout", "agosto"),
     ("sep", "sept", "september", "septembre", "septiembre", "settembre"),
     ("oct", "october", "octobre", "oktober", "octubre", "ottobre"),
     ("nov", "november", "novembre", "noviembre"),
     ("dec", "december", "décembre", "decembre", "dezember", "diciembre", "dicembre")),
    start=1) for m in names}
_MON = r"(?P<mon>[A-Za-zéûä]{3,9})\.?"
_DATE_PATTERNS = (
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)"),
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})/(?P<m>\d{1,2})/(?P<d>\d{1,2})(?!\d)"),
    re.compile(rf"\b{_MON}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d{{2}})(?!\d)"),
    re.compile(rf"(?<!\d)(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\.?\s+(?:of\s+)?{_MON},?\s+"
               rf"(?P<y>(?:19|20)\d{{2}})(?!\d)"),
    re.compile(r"(?<!\d)(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<y>(?:19|20)\d{2})(?!\d)"),
)
_MONTH_FIRST_LANGS = ("en-us", "en-ph", "en-ca-us")


def parse_date(text: str, lang: str | None = None, latest: dt.date | None = None,
               ) -> dt.date | None:
    """The first plausible date in ``text``, in any common format.

    ISO (``2026-03-04``, with or without a time), RFC 2822 (``Wed, 04 Mar 2026 09:00:00
    +0000``), ``March 4, 2026``, ``4 Mar 2026``, ``4th of March 2026`` and numeric
    ``04/03/2026`` or ``04.03.2026``. Numeric dates are read month-first for US English
    (``lang`` ``en-US``) and day-first otherwise, unless one part is over 12. Dates after
    ``latest`` (default: a year from today) or before 1990 are ignored.
    """
    if not text:
        return None
    latest = latest or (dt.date.today() + dt.timedelta(days=366))
    t = text.strip()
    if len(t) < 40 and "," in t and re.search(r"\d{2}:\d{2}", t):
        try:
            d = parsedate_to_datetime(t).date()
            if dt.date(1990, 1, 1) <= d <= latest:
                return d
        except (TypeError, ValueError, IndexError):
            pass
    month_first = (lang or "").lower() in _MONTH_FIRST_LANGS
    found: list[tuple[int, dt.date]] = []
    for i, pat in enumerate(_DATE_PATTERNS):
        for m in pat.finditer(t):
            g = m.groupdict()
            try:
                y = int(g["y"])
                if "mon" in g and g.get("mon") is not None:
                    mon = _MONTHS.get(g["mon"].lower())
                    if mon is None:
                        continue
                    d = dt.date(y, mon, int(g["d"]))
                elif "a" in g and g.get("a") is not None:
                    a, b = int(g["a"]), int(g["b"])
                    if a > 12 >= b:
                        day, mon = a, b
                    elif b > 12 >= a:
                        day, mon = b, a
                    elif month_first and "." not in m.group(0):
                        mon, day = a, b
                    else:
                        day, mon = a, b
                    d = dt.date(y, mon, day)
                else:
                    d = dt.date(y, int(g["m"]), int(g["d"]))
            except (ValueError, TypeError):
                continue
            if dt.date(1990, 1, 1) <= d <= latest:
                found.append((m.start(), d))
        if found and i < 2:
            break
    if not found:
        return None
    return min(found)[1]


_META_DATE_KEYS = ("article:published_time", "og:published_time", "published_time",
                   "datepublished", "date", "dc.date", "dc.date.issued", "pubdate",
                   "publish-date", "sailthru.date", "parsely-pub-date")
_LABEL = re.compile(r"\b(published|posted|date|dated|on)\b\s*:?", re.I)


def published_date(doc: lxml.html.HtmlElement, lang: str | None = None) -> dt.date | None:
    """The publication date a page shows: metadata first, then ``<time>``, then the text.

    Order: ``article:published_time`` and similar ``<meta>``; JSON-LD ``datePublished``;
    ``itemprop="datePublished"``; the first ``<time datetime>`` of the main content (then of
    the page); a "Published: ..." or "Posted ..." label; the first date in the main text.
    """
    for m in doc.iter("meta"):
        key = (m.get("property") or m.get("name") or m.get("itemprop") or "").lower()
        if key in _META_DATE_KEYS:
            d = parse_date(m.get("content") or "", lang)
            if d:
                return d
    for s in doc.xpath("//script[@type='application/ld+json']"):
        mm = re.search(r'"datePublished"\s*:\s*"([^"]+)"', s.text or "")
        if mm and (d := parse_date(mm.group(1), lang)):
            return d
    for el in doc.xpath("//*[@itemprop='datePublished']"):
        d = parse_date(el.get("content") or el.get("datetime") or el.text_content(), lang)
        if d:
            return d
    main = main_element(doc)
    for scope in (main, doc):
        for t in scope.iter("time"):
            d = parse_date(t.get("datetime") or "", lang) or parse_date(t.text_content(), lang)
            if d:
                return d
    text = main.text_content()
    for m in _LABEL.finditer(text):
        d = parse_date(text[m.end(): m.end() + 40], lang)
        if d:
            return d
    return parse_date(text, lang)


def feed_date(value: str | None) -> dt.date | None:
    """A feed or API date (RSS ``pubDate``, Atom ``updated``, ISO ``created_at``)."""
    return parse_date(value or "")
