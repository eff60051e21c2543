"""The BentoML service partners pull their scored reports from.

Thin on purpose: every endpoint authenticates the key, validates the request, then calls
the catalog (published months and report files), the download query, the CRM matcher or
the scoring stage's on-demand scorer. Run it with ``propensity serve`` or
``bentoml serve serving.service:Propensity`` (the lake from ``PROPENSITY_LAKE``).

Every endpoint is a POST with a JSON body (BentoML's convention) and needs a key in
``Authorization: Bearer <key>`` or ``X-API-Key``; ``GET /livez`` and ``GET /readyz`` (ready
once the latest published month is loaded) are public, as are the hub page at ``/``,
the Swagger UI at ``/docs`` and the OpenAPI document at ``/docs.json``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any, Literal

import bentoml
import pyarrow.parquet as pq
from bentoml.validators import ContentType
from pydantic import Field
from starlette.responses import JSONResponse, Response, StreamingResponse

from propensity import contracts as C
from propensity.settings import load_settings
from serving import downloads as D
from serving import timeouts
from serving.catalog import Catalog, retry_swap
from serving.errors import ApiError, bad_request, forbidden, not_found, too_large, unauthorized
from serving.gate import Gate
from serving.keys import KeyStore, Principal, keys_db_path
from serving.matching import Matcher, parse_accounts
from serving.models import (
    CrmMatch,
    CrmResult,
    CustomerScores,
    Lookup,
    Metadata,
    MonthMeta,
    NewCompany,
    OnDemandScores,
    PartnerReports,
    ProductBrief,
    ProductScore,
    ReportInfo,
    ReportsListing,
)

log = logging.getLogger(__name__)
VERSION = "1"
ReportId = Literal["agreement_renewal", "azure", "d365", "m365", "security", "surface"]
assert set(ReportId.__args__) == set(C.REPORTS)  # type: ignore[attr-defined]
Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]
PartnerId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$",
                                 description="partner GlobalID (admin keys only; a partner "
                                 "key may give its own)")]
CustomerId = Annotated[str, Field(min_length=1, max_length=100)]
API_PATHS = ("/reports", "/download", "/customer", "/customers", "/crm_match",
             "/score_company", "/metadata")

_SETTINGS = load_settings()
timeouts.install()  # BentoML's request timer, cancelled when the request ends


@bentoml.service(
    name="propensity",
    workers=_SETTINGS.serving.workers,
    threads=_SETTINGS.serving.threads,
    traffic={"timeout": 300},
    logging={"access": {"enabled": _SETTINGS.serving.access_log}},
    metrics={"enabled": _SETTINGS.serving.metrics},
)
class Propensity:
    """Partner downloads, score look-ups, CRM matching and on-demand scoring."""

    def __init__(self) -> None:
        self.settings = load_settings()
        self.lake = Path(self.settings.lake)
        self.catalog = Catalog(self.lake, check_seconds=0.0, warm_downloads=True,
                               freeze_gc=True)
        self.keys = KeyStore(keys_db_path(self.lake, self.settings.serving.keys_db))
        self.catalog.index()  # starts loading the latest month's scores
        # a month published while no request comes is loaded and warmed all the same
        self.catalog.watch(self.settings.serving.reload_check_seconds)
        log.info("serving lake %s", self.lake)

    def __is_ready__(self) -> bool:
        self.catalog.index()
        return self.catalog.ready

    # ---------------------------------------------------------------- helpers
    def _auth(self, ctx: bentoml.Context) -> Principal:
        h = ctx.request.headers
        key = h.get("x-api-key")
        if not key:
            auth = h.get("authorization", "")
            scheme, _, value = auth.partition(" ")
            key = value.strip() if scheme.lower() == "bearer" else None
        p = self.keys.verify(key)
        if p is None:
            raise unauthorized()
        return p

    def _partner(self, p: Principal, partner: str | None, required: bool = True) -> str | None:
        if p.admin:
            if partner is None:
                if required:
                    raise bad_request("an admin key must name the partner (field 'partner')")
                return None
            if partner not in self.catalog.partners():
                raise not_found(f"no published reports for partner {partner!r}")
            return partner
        if partner is not None and partner != p.partner:
            raise forbidden("this key reads only its own partner's data")
        return p.partner

    def _month(self, month: str | None) -> str:
        try:
            return self.catalog.resolve_month(month).month
        except KeyError:
            if month is None:
                raise not_found("no month has been published yet") from None
            raise not_found(f"month {month} is not published; published: "
                            f"{self.catalog.months()}") from None

    @staticmethod
    def _fail(ctx: bentoml.Context, e: ApiError) -> JSONResponse:
        ctx.response.status_code = e.status
        if e.status >= 500:
            log.error("refused: %s", e.message)
        return JSONResponse(e.body(), status_code=e.status)

    def _snapshot(self, month: str | None) -> Any:
        try:
            return self.catalog.snapshot(month)
        except KeyError:
            self._month(month)
            raise

    # ---------------------------------------------------------------- endpoints
    @bentoml.api
    def metadata(self, ctx: bentoml.Context) -> Metadata:
        """The published months, the month look-ups answer from and the model versions."""
        try:
            p = self._auth(ctx)
            idx = self.catalog.index()
            snap = self.catalog.snapshot(None) if idx.latest else None
            s = self.settings.serving
            return Metadata(
                service="propensity", version=VERSION, latest=idx.latest,
                scores_month=snap.month if snap else None,
                months=[MonthMeta(month=m.month, published_at=m.published_at, run_id=m.run_id,
                                  reports=list(m.reports), partners=m.partners)
                        for m in sorted(idx.months.values(), key=lambda m: m.month,
                                        reverse=True)],
                model_versions=snap.model_versions if snap else {},
                limits={"max_body_bytes": s.max_body_bytes,
                        "max_upload_bytes": s.max_upload_bytes,
                        "max_upload_rows": s.max_upload_rows,
                        "max_lookup_ids": s.max_lookup_ids},
                principal={"partner": p.partner, "admin": p.admin},
            )
        except ApiError as e:
            return self._fail(ctx, e)  # type: ignore[return-value]

    @bentoml.api
    def reports(self, ctx: bentoml.Context, partner: PartnerId | None = None) -> ReportsListing:
        """My reports: for each published month, the reports I can download.

        An admin key without ``partner`` lists every partner.
        """
        try:
            p = self._auth(ctx)
            g = self._partner(p, partner, required=False)
            partners = [g] if g is not None else self.catalog.partners()
            infos = [ReportInfo(id=r, title=C.REPORT_SPECS[r].title,
                                products=list(C.REPORT_SPECS[r].products),
                                columns=C.report_columns(r),
                                flag_columns=C.report_flag_columns(r),
                                numeric_columns=C.report_numeric_columns(r),
                                cluster_columns=D.product_columns(r, "Cluster"))
                     for r in C.REPORTS]
            return ReportsListing(
                latest=self.catalog.index().latest,
                partners=[PartnerReports(partner=x, months=self.catalog.partner_reports(x))
                          for x in partners],
                reports=infos)
        except ApiError as e:
            return self._fail(ctx, e)  # type: ignore[return-value]

    @bentoml.api
    def download(
        self,
        ctx: bentoml.Context,
        report: ReportId,
        month: Month | None = None,
        partner: PartnerId | None = None,
        columns: Annotated[list[str], Field(max_length=500)] | None = None,
        filters: D.Filters | None = None,
        sort: str = "PotentialRevenue",
        descending: bool = True,
        limit: Annotated[int, Field(ge=1, le=10_000_000)] | None = None,
        format: Literal["csv", "parquet"] = "csv",  # noqa: A002 - the API's field name
    ) -> Annotated[Path, ContentType("text/csv")]:
        """Download one report: chosen columns, filters, sort (potential revenue, highest
        first, by default) and format (CSV, UTF-8 with BOM, or Parquet), streamed.
        """
        try:
            p = self._auth(ctx)
            g = self._partner(p, partner)
            m = self._month(month)
            cols = D.check_columns(report, columns)
            if sort not in C.report_columns(report):
                raise bad_request(f"cannot sort by unknown column {sort!r} of report {report!r}",
                                  known=C.report_columns(report))
            f = filters or D.Filters()
            assert g is not None
            name = f"{report}_{g}_{m}.{format}"
            headers = {"content-disposition": f'attachment; filename="{name}"',
                       "x-report-month": m}
            media = "text/csv; charset=utf-8" if format == "csv" else \
                "application/vnd.apache.parquet"
            published = (columns is None or cols == C.report_columns(report)) and \
                f.is_empty() and sort == "PotentialRevenue" and descending and limit is None
            if published:
                path = self.catalog.report_path(g, m, report, format)
                try:
                    body = retry_swap(lambda: D.iter_file(path))
                except FileNotFoundError:
                    raise not_found(f"report {report!r} of {m} is not published for partner "
                                    f"{g}") from None
                return StreamingResponse(body, media_type=media,  # type: ignore[return-value]
                                         headers=headers)
            path = self.catalog.report_path(g, m, report, "parquet")
            try:
                table = retry_swap(lambda: D.query(path, report, cols, f, sort, descending,
                                                   limit, positions_only=format == "csv"))
            except FileNotFoundError:
                raise not_found(f"report {report!r} of {m} is not published for partner "
                                f"{g}") from None
            headers["x-row-count"] = str(table.num_rows)
            rows, table = table[D.ROW], table.drop([D.ROW])
            if format == "csv":
                total = pq.ParquetFile(path).metadata.num_rows
                csv_path = self.catalog.report_path(g, m, report, "csv")
                try:
                    stream = retry_swap(lambda: D.iter_published_csv(csv_path, rows, cols,
                                                                     total))
                except FileNotFoundError:
                    stream = None
                if stream is None:  # no published CSV in line with the Parquet file
                    full = retry_swap(lambda: pq.read_table(path, columns=cols))
                    stream = D.iter_csv(full.take(rows))
                return StreamingResponse(stream, media_type=media,  # type: ignore[return-value]
                                         headers=headers)
            return Response(D.parquet_bytes(table), media_type=media,  # type: ignore[return-value]
                            headers=headers)
        except ApiError as e:
            return self._fail(ctx, e)  # type: ignore[return-value]

    @bentoml.api
    async def customer(
        self,
        ctx: bentoml.Context,
        customer_id: CustomerId,
        month: Month | None = None,
        partner: PartnerId | None = None,
        products: list[str] | None = None,
    ) -> CustomerScores:
        """Scores of one of my customers, every product (or ``products``)."""
        try:
            if not products and month is None and self.catalog.ready:
                # the hot path: the answer's JSON is cached per customer and month
                p = self._auth(ctx)
                g = self._partner(p, partner, required=False)
                snap = self.catalog.snapshot(None)
                if g is None or g in snap.owners.get(customer_id, ()):
                    body = snap.customer_json(customer_id)
                    if body is not None:
                        return Response(body, media_type="application/json")  # type: ignore[return-value]
            res = await self._lookup(ctx, [customer_id], month, partner, products)
            if not res.customers:
                raise not_found(f"customer {customer_id!r} is not among your customers in "
                                f"{res.month}")
            return res.customers[0]
        except ApiError as e:
            return self._fail(ctx, e)  # type: ignore[return-value]

    @bentoml.api
    async def customers(
        self,
        ctx: bentoml.Context,
        customer_ids: Annotated[list[CustomerId], Field(min_length=1)],
        month: Month | None = None,
        partner: PartnerId | None = None,
        products: list[str] | None = None,
    ) -> Lookup:
        """Scores of many of my customers; ids that are not mine are listed in ``not_found``
        (404 when none is mine)."""
        try:
            if len(customer_ids) > self.settings.serving.max_lookup_ids:
                raise too_large(f"at most {self.settings.serving.max_lookup_ids} ids per "
                                "look-up")
            res = await self._lookup(ctx, customer_ids, month, partner, products)
            if not res.customers:
                raise not_found(f"none of the {len(customer_ids)} id(s) is among your "
                                f"customers in {res.month}")
            return res
        except ApiError as e:
            return self._fail(ctx, e)  # type: ignore[return-value]

    async def _lookup(self, ctx: bentoml.Context, ids: list[str], month: str | None,
                      partner: str | None, products: list[str] | None) -> Lookup:
        p = self._auth(ctx)
        g = self._partner(p, partner, required=False)
        if products:
            unknown = [x for x in products if x not in C.PRODUCTS]
            if unknown:
                raise bad_request(f"unknown product(s) {unknown}; known: {list(C.PRODUCTS)}")
        wanted = set(products) if products else None
        if month is None and self.catalog.ready:
            snap = self.catalog.snapshot(None)
        else:
            self._month(month)
            import anyio

            snap = await anyio.to_thread.run_sync(self.catalog.snapshot, month)
        found: list[CustomerScores] = []
        missing: list[str] = []
        for cid in dict.fromkeys(ids):
            owners = snap.owners.get(cid, ())
            if g is not None and g not in owners:
                missing.append(cid)
                continue
            recs = snap.customer(cid, wanted)
            if not recs:
                missing.append(cid)
                continue
            name, domain = snap.companies.get(cid, (None, None))
            found.append(CustomerScores(customer_id=cid, account_name=name, domain=domain,
                                        month=snap.month,
                                        scores=[ProductScore(**r) for r in recs]))
        return Lookup(month=snap.month, partner=g, customers=found, not_found=missing)

    @bentoml.api
    def crm_match(
        self,
        ctx: bentoml.Context,
        csv: Annotated[str, Field(min_length=1, description="the CSV text: a header naming "
                                  "domain, name and/or id columns, one row per account")],
        month: Month | None = None,
        partner: PartnerId | None = None,
        products: list[str] | None = None,
    ) -> CrmResult:
        """Match my CRM accounts (CSV with domain, name, id columns) to my customers: by
        domain, then name (exact, then fuzzy), then id; each match with a confidence and the
        customer's propensity per product."""
        try:
            p = self._auth(ctx)
            g = self._partner(p, partner)
            assert g is not None
            s = self.settings.serving
            if len(csv.encode("utf-8")) > s.max_upload_bytes:
                raise too_large(f"the CSV is over {s.max_upload_bytes} bytes")
            if products:
                unknown = [x for x in products if x not in C.PRODUCTS]
                if unknown:
                    raise bad_request(f"unknown product(s) {unknown}; known: {list(C.PRODUCTS)}")
            accounts, used = parse_accounts(csv, s.max_upload_rows)
            m = self._month(month)
            snap = self.catalog.snapshot(month)
            mine = [(c, *snap.companies.get(c, ("", ""))) for c in snap.partner_customers(g)]
            matcher = Matcher(mine, s.fuzzy_min_score)
            wanted = set(products) if products else None
            out: list[CrmMatch] = []
            by_method: dict[str, int] = {}
            for a in accounts:
                mt = matcher.match(a)
                name, domain = snap.companies.get(mt.customer_id, (None, None)) \
                    if mt.customer_id else (None, None)
                briefs = [ProductBrief(product=r["product"], fit_score=r["fit_score"],
                                       intent_score=r["intent_score"], cluster=r["cluster"],
                                       cell=r["cell"],
                                       expected_revenue_usd=r["expected_revenue_usd"])
                          for r in (snap.customer(mt.customer_id, wanted)
                                    if mt.customer_id else [])]
                if mt.method:
                    by_method[mt.method] = by_method.get(mt.method, 0) + 1
                out.append(CrmMatch(row=a.row, input_domain=a.domain, input_name=a.name,
                                    input_id=a.id, customer_id=mt.customer_id,
                                    account_name=name, domain=domain, method=mt.method,
                                    confidence=mt.confidence, candidates=mt.candidates,
                                    scores=briefs))
            return CrmResult(month=m, partner=g, rows=len(accounts),
                             matched=sum(by_method.values()), by_method=by_method,
                             columns_used=used, matches=out)
        except ApiError as e:
            return self._fail(ctx, e)  # type: ignore[return-value]

    @bentoml.api
    def score_company(self, ctx: bentoml.Context, company: NewCompany) -> OnDemandScores:
        """Score a company that is not in the monthly batch (a new CRM account) with the
        champion models, through the batch's feature builder; its crawled signals are
        looked up by domain."""
        try:
            p = self._auth(ctx)
            from serving.ondemand import score_company

            return score_company(self.catalog, self.settings, p, company)
        except ApiError as e:
            return self._fail(ctx, e)  # type: ignore[return-value]


Propensity.add_asgi_middleware(  # type: ignore[attr-defined]
    Gate, api_paths=API_PATHS, max_body=_SETTINGS.serving.max_body_bytes,
    max_upload=_SETTINGS.serving.max_upload_bytes + 64_000, upload_paths=("/crm_match",))
