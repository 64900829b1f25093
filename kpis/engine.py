"""The metric engine: SPEC §4 and §5 computed from the event tables, in SQL, in two stages.

1. **Days** (`days_refresh`): every additive value (counts, sums, the numerators and
   denominators of ratios, campaign costs, attributed revenue, the open pipeline's daily
   change) for each local day and dimension member, stored in `KpiDaily`. Each family is one
   GROUP BY per source table over the days asked for; only rows that changed are written, and
   the changed (metric, day) pairs come back.
2. **Periods** (`periods_compute`): a week, month or quarter is the sum of its days (one
   GROUP BY per kind over `KpiDaily`); the open pipeline is a running sum of its daily
   changes; the percentiles read the raw rows of the period; costs per result, ROI, the SAL
   commitment, forecasts and goals are derived from the sums. Asked for some metrics only,
   it computes what those need.

`compute(kind=..., periods=...)` does both for the given periods: every value of every metric.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import (
    Case,
    Count,
    DateField,
    DecimalField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import (
    Coalesce,
    Greatest,
    RowNumber,
    Trunc,
    TruncDate,
    TruncMonth,
    TruncQuarter,
    TruncWeek,
)
from django.utils import timezone

from alignment import scorecard as card
from alignment.models import (
    FieldInsight,
    Goal,
    Meeting,
    MeetingAttendee,
    RevenueForecast,
    ServiceLevelAgreement,
)
from alignment.selectors import payout_curve_for, payout_curves
from config.db import rows_sync
from core import attribution
from core.catalog import COST_DIMS, METRICS
from core.periods import elapsed_share, local_midnight, next_period, period_start
from kpis.models import KpiDaily
from leads import evidence
from leads.models import Campaign, Deal, Dispute, Handoff, Lead, Stage, StageEvent, Touch

ZERO = Decimal(0)
NO_CAMPAIGN = attribution.NO_CAMPAIGN
NO_CHANNEL = "(no channel)"
UNASSIGNED = "(unassigned)"
_TRUNC = {"week": TruncWeek, "month": TruncMonth, "quarter": TruncQuarter}
_MISSING_KEY = {"campaign": NO_CAMPAIGN, "channel": NO_CHANNEL, "owner": UNASSIGNED}
PENDING, ACCEPTED = Handoff.Status.PENDING, Handoff.Status.ACCEPTED
REJECTED, WITHDRAWN = Handoff.Status.REJECTED, Handoff.Status.WITHDRAWN
_SAL_FACTOR = {"month": Decimal(1), "quarter": Decimal(3), "week": Decimal(12) / Decimal(52)}


@dataclass(frozen=True)
class Value_:
    """One computed value before it becomes a snapshot row."""

    metric: str
    period_start: date
    dimension: str
    key: str
    model: str
    numerator: Decimal
    denominator: Decimal | None
    empty: bool = False  # a percentile over nothing: no value

    @property
    def value(self) -> Decimal | None:
        if self.empty:
            return None
        if self.denominator is None:
            return self.numerator
        if self.denominator == 0:
            return None
        return self.numerator / self.denominator


Cell = tuple[date, str, str]  # (period_start, dimension, key); dimension "" is the total


class _Results:
    """Accumulates numerators/denominators per (metric, period, dimension, key, model)."""

    def __init__(self) -> None:
        self.cells: dict[tuple[str, date, str, str, str], list] = {}

    def put(
        self,
        metric: str,
        cell: Cell,
        numerator: Decimal | int | float,
        denominator: Decimal | int | float | None = None,
        model: str = "",
        empty: bool = False,
    ) -> None:
        period, dimension, key = cell
        den = None if denominator is None else Decimal(denominator)
        self.cells[(metric, period, dimension, key, model)] = [Decimal(numerator), den, empty]

    def add(
        self,
        metric: str,
        cell: Cell,
        numerator: Decimal | int,
        denominator: Decimal | int | None = None,
        model: str = "",
    ) -> None:
        """Add to a cell's numerator (and denominator), starting from nothing."""
        found = self.get(metric, cell, model)
        if found is None:
            self.put(metric, cell, numerator, denominator, model=model)
            return
        found[0] += Decimal(numerator)
        if denominator is not None:
            found[1] = (found[1] or 0) + Decimal(denominator)

    def get(self, metric: str, cell: Cell, model: str = "") -> list | None:
        return self.cells.get((metric, *cell, model))

    def values(self) -> list[Value_]:
        return [Value_(m, p, d, k, mo, *rest) for (m, p, d, k, mo), rest in self.cells.items()]


@dataclass(frozen=True)
class _Scope:
    """Periods of one kind (the second stage)."""

    kind: str
    periods: tuple[date, ...]
    tz: ZoneInfo
    now: datetime

    @property
    def start(self) -> datetime:
        return local_midnight(self.periods[0], self.tz)

    @property
    def end(self) -> datetime:
        return local_midnight(next_period(self.kind, self.periods[-1]), self.tz)

    def trunc(self, field: str) -> TruncWeek:
        return _TRUNC[self.kind](field, output_field=DateField(), tzinfo=self.tz)

    def in_range(self, field: str) -> Q:
        return Q(**{f"{field}__gte": self.start, f"{field}__lt": self.end})


@dataclass(frozen=True)
class _Days:
    """Runs of local days, each [first, last] (the first stage)."""

    ranges: tuple[tuple[date, date], ...]
    tz: ZoneInfo
    now: datetime

    def trunc(self, field: str) -> TruncDate:
        return TruncDate(field, tzinfo=self.tz)

    def in_range(self, field: str) -> Q:
        q = Q()
        for first, last in self.ranges:
            q |= Q(
                **{
                    f"{field}__gte": local_midnight(first, self.tz),
                    f"{field}__lt": local_midnight(last + timedelta(days=1), self.tz),
                }
            )
        return q

    def days(self) -> Iterator[date]:
        for first, last in self.ranges:
            for n in range((last - first).days + 1):
                yield first + timedelta(days=n)


def day_runs(days: Iterable[date]) -> tuple[tuple[date, date], ...]:
    """Sorted days as runs of consecutive days, each (first, last)."""
    runs: list[list[date]] = []
    for day in sorted(set(days)):
        if runs and day - runs[-1][1] == timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return tuple((first, last) for first, last in runs)


def _dimensions(lead: str, owner: str, *, reason: str | None = None) -> dict[str, str]:
    """The dimension columns: the lead's campaign, channel and segment, the owner, and (for
    rows of a handoff, given its path) the rejection reason."""
    dims = {
        "campaign": f"{lead}campaign__external_id",
        "channel": f"{lead}campaign__channel",
        "owner": f"{owner}username",
        "segment": f"{lead}segment",
    }
    if reason is not None:
        dims["reason"] = f"{reason}reason__code"
    return dims


LEAD_DIMS = _dimensions("", "owner__")
HANDOFF_DIMS = _dimensions("lead__", "owner__")
#: A handoff's dimensions with its rejection reason (a rejection's cells by reason).
REASON_DIMS = _dimensions("lead__", "owner__", reason="")
DISPUTE_DIMS = _dimensions("handoff__lead__", "handoff__owner__", reason="handoff__")
VIA_LEAD_DIMS = _dimensions("lead__", "lead__owner__")


def _grouped(
    qs: QuerySet,
    scope: _Scope | _Days,
    time_field: str,
    dims: dict[str, str],
    by: tuple[str, ...] = (),
    **aggregates: object,
) -> Iterator[tuple[Cell, dict]]:
    """One GROUP BY over (period, every dimension) rolled up to the totals and each dimension.

    The aggregates must be additive (counts, sums): the database groups the raw rows once at
    the finest grain, and Python adds up the few grouped rows per member. `by` names columns
    annotated on `qs` to group by as well, so that an expensive one is computed once per row
    rather than once per aggregate filtering on it: each aggregate then comes back per value,
    as "name@value".
    """
    columns = {f"d_{dimension}": F(path) for dimension, path in dims.items()}
    rows = (
        qs.filter(scope.in_range(time_field))
        .annotate(p=scope.trunc(time_field), **columns)
        .values("p", *columns, *by)
        .annotate(**aggregates)
        .order_by()
    )
    cells: dict[Cell, dict] = {}
    for row in rows:
        period = row.pop("p")
        members = [(dimension, _key(dimension, row.pop(f"d_{dimension}"))) for dimension in dims]
        split = "".join(f"@{row.pop(column)}" for column in by)
        for cell in [(period, "", ""), *((period, d, k) for d, k in members if k is not None)]:
            sums = cells.setdefault(cell, {})
            for name, value in row.items():
                name = f"{name}{split}"
                if value is not None:  # sums of durations are timedeltas, so no 0 to start
                    sums[name] = value if sums.get(name) is None else sums[name] + value
                else:
                    sums.setdefault(name, None)
    for cell, sums in cells.items():
        yield cell, {name: 0 if value is None else value for name, value in sums.items()}


def _key(dimension: str, raw: object) -> str | None:
    if raw in (None, ""):
        return "" if dimension == "" else _MISSING_KEY.get(dimension)
    return str(raw)


def _percentiles_grouping_sets(
    base: QuerySet, dims: dict[str, str], q: float
) -> Iterator[tuple[Cell, object]]:
    """PostgreSQL: `percentile_cont` (the same linear interpolation between the two values
    around the rank) over the total and every dimension in one pass, with GROUPING SETS."""
    columns = {f"d_{dimension}": F(path) for dimension, path in dims.items()}
    inner = base.annotate(**columns).values("p", "v", *columns)
    sql, params = inner.query.sql_with_params()
    names = list(columns)
    sets = ", ".join(["(p)", *(f"(p, {name})" for name in names)])
    # Without dimensions there is only the total: GROUPING() needs a column, so it reads 0.
    selected = "".join(f"{name}, " for name in names)
    grouping = f"GROUPING({', '.join(names)})" if names else "0"
    query = (
        f"SELECT p, {selected}{grouping}, "
        f"percentile_cont(%s) WITHIN GROUP (ORDER BY v) "
        f"FROM ({sql}) AS rows GROUP BY GROUPING SETS ({sets})"
    )
    output = base.query.annotations["v"].output_field
    convert = (
        connection.ops.convert_durationfield_value
        if output.get_internal_type() == ("DurationField")
        else None
    )
    with connection.cursor() as cursor:
        cursor.execute(query, [q, *params])
        for p, *row in cursor.fetchall():
            *keys, grouping, at = row
            p = p.date() if isinstance(p, datetime) else p  # the ORM's cast is not in raw SQL
            # GROUPING sets a bit for each column rolled up (the first column highest).
            kept = [i for i in range(len(names)) if not grouping & (1 << (len(names) - 1 - i))]
            if convert is not None and not isinstance(at, timedelta):
                at = convert(at, None, connection)
            if not kept:
                yield (p, "", ""), at
                continue
            dimension = list(dims)[kept[0]]
            key = _key(dimension, keys[kept[0]])
            if key is not None:
                yield (p, dimension, key), at


def _percentiles(
    qs: QuerySet, scope: _Scope, time_field: str, value: object, dims: dict[str, str], q: float
) -> Iterator[tuple[Cell, object]]:
    """Continuous percentile `q` of `value` per period and member: `percentile_cont` on
    PostgreSQL; elsewhere the two values around the rank, picked by SQL windows."""
    base = (
        qs.filter(scope.in_range(time_field))
        .annotate(p=scope.trunc(time_field), v=value)
        .filter(v__isnull=False)
        .order_by()
    )
    if connection.vendor == "postgresql":
        yield from _percentiles_grouping_sets(base, dims, q)
        return
    for dimension, path in [("", None), *dims.items()]:
        partition = [F("p"), F("k")]
        rows = (
            base.annotate(k=F(path) if path else Value(""))
            .annotate(
                rn=Window(RowNumber(), partition_by=partition, order_by=[F("v").asc()]),
                n=Window(Count("pk"), partition_by=partition),
            )
            .filter(rn__gte=q * (F("n") - 1), rn__lte=q * (F("n") - 1) + 2)
            .values_list("p", "k", "v", "rn", "n")
        )
        picked: dict[tuple, dict[int, object]] = defaultdict(dict)
        sizes: dict[tuple, int] = {}
        for p, k, v, rn, n in rows:
            picked[(p, k)][rn] = v
            sizes[(p, k)] = n
        for (p, k), by_rank in picked.items():
            key = _key(dimension, k)
            if key is None:
                continue
            position = q * (sizes[(p, k)] - 1)
            low, high = math.floor(position), math.ceil(position)
            lo, hi = by_rank[low + 1], by_rank[high + 1]
            yield (p, dimension, key), lo + (hi - lo) * (position - low)


# The demand waterfall's steps, each the leads whose furthest stage is at least its rank.
FUNNEL_STEPS = ("funnel_mqls", "funnel_sals", "funnel_sqls", "funnel_opportunities", "funnel_won")
_REACH = {  # a stage event's rank on the way down the waterfall (lost follows an opportunity)
    Stage.MQL: 1,
    Stage.REJECTED: 1,
    Stage.SAL: 2,
    Stage.SQL: 3,
    Stage.OPPORTUNITY: 4,
    Stage.LOST: 4,
    Stage.WON: 5,
}


# --- stage 1: days ---------------------------------------------------------------------------


def _leads(scope: _Days, out: _Results) -> None:
    """Leads created, and the demand waterfall of the leads created that day: each counted
    once at every stage up to the furthest it has reached by now (a handoff is an MQL, a deal
    an opportunity, a won deal a win), so no step exceeds the one before."""
    events = StageEvent.objects.filter(lead=OuterRef("pk"), stage__in=list(_REACH))
    by_stage = Max(Case(*(When(stage=s, then=Value(n)) for s, n in _REACH.items())))
    by_deal = Max(Case(When(status=Deal.Status.WON, then=Value(5)), default=Value(4)))
    furthest = Greatest(
        _lead_max(events, by_stage),
        _lead_max(Deal.objects.filter(lead=OuterRef("pk")), by_deal),
        Case(
            When(Exists(Handoff.objects.filter(lead=OuterRef("pk"))), then=Value(1)),
            default=Value(0),
        ),
    )
    qs = Lead.objects.annotate(reach=furthest)
    for cell, row in _grouped(qs, scope, "created_at", LEAD_DIMS, ("reach",), n=Count("id")):
        by_reach = [row.get(f"n@{reach}", 0) for reach in range(len(FUNNEL_STEPS) + 1)]
        out.put("leads_created", cell, sum(by_reach))
        for step, metric in enumerate(FUNNEL_STEPS, 1):
            out.put(metric, cell, sum(by_reach[step:]))


def _lead_max(qs: QuerySet, rank: Max) -> Coalesce:
    """The highest `rank` over a lead's rows of `qs` (0 without any), as a subquery."""
    ranked = qs.order_by().values("lead").annotate(r=rank).values("r")
    return Coalesce(Subquery(ranked, output_field=IntegerField()), Value(0))


def _handoff_cohorts(scope: _Days, out: _Results) -> None:
    """MQLs and every cohort metric, by handed_at (the rejections' evidence by reason too);
    the sum and count of the speeds to lead tell which periods' percentiles changed."""
    # The outcomes are stored on the handoff (`leads.services.handoffs_refresh_outcomes`).
    # A rejection or a withdrawal inside the cadence window closes it out.
    closed_out = (
        Q(sql_reached_at__lte=F("cadence_due_at"))
        | Q(window_success=True)
        | Q(status__in=[REJECTED, WITHDRAWN], decided_at__lte=F("cadence_due_at"))
    )
    qs = Handoff.objects.annotate(
        sql_after=Case(When(sql_reached_at__isnull=False, then=Value(True)), default=Value(False)),
        won=F("lead_won"),
        closed_out=Case(When(closed_out, then=Value(True)), default=Value(False)),
    )
    # Where the cadence stands, computed once per handoff (each subquery once): 0 not yet
    # due or closed out, 1 due and missed, 2 due and met.
    due = Q(cadence_due_at__lte=scope.now, closed_out=False)
    met = Q(window_attempts__gte=F("sla__attempts"))
    qs = qs.annotate(
        cadence=Case(When(~due, then=Value(0)), When(met, then=Value(2)), default=Value(1))
    )
    responded = Q(responded_at__isnull=False)
    # A withdrawal before the first-contact deadline, with no response yet, leaves it out.
    withdrawn_in_time = Q(status=WITHDRAWN, decided_at__lte=F("first_contact_due_at"))
    counted = evidence.follow_up_counted(scope.now)
    rows = _grouped(
        qs,
        scope,
        "handed_at",
        REASON_DIMS,
        ("cadence",),
        n=Count("id"),
        pending=Count("id", filter=Q(status=PENDING)),
        accepted=Count("id", filter=Q(status=ACCEPTED)),
        rejected=Count("id", filter=Q(status=REJECTED)),
        sql=Count("id", filter=Q(status=ACCEPTED, sql_after=True)),
        won=Count("id", filter=Q(won=True)),
        fc_met=Count("id", filter=responded & Q(responded_at__lte=F("first_contact_due_at"))),
        fc_counted=Count(
            "id",
            filter=responded | (Q(first_contact_due_at__lte=scope.now) & ~withdrawn_in_time),
        ),
        speed=Sum("speed_to_lead_hours"),
        speeds=Count("speed_to_lead_hours"),
        fu_counted=Count("id", filter=counted),
        fu=Count("id", filter=counted & evidence.followed_up()),
        rwc=Count("id", filter=evidence.rejected_without_contact()),
        rtw=Count("id", filter=evidence.rejected_then_won()),
        atd=Count("id", filter=evidence.accepted_then_disqualified()),
        withdrawn=Count("id", filter=evidence.withdrawn()),
    )
    for cell, split in rows:
        r = {name: sum(split.get(f"{name}@{c}", 0) for c in range(3)) for name in _COHORT_SUMS}
        # The rejections' evidence is broken down by reason; the rest are not.
        out.put("rejected_without_contact_rate", cell, r["rwc"], r["rejected"])
        out.put("rejected_then_won_rate", cell, r["rtw"], r["rejected"])
        if cell[1] == "reason":
            continue
        cad_met, cad_missed = split.get("n@2", 0), split.get("n@1", 0)
        out.put("mqls", cell, r["n"])
        out.put("handoffs_pending", cell, r["pending"])
        out.put("acceptance_rate", cell, r["accepted"], r["accepted"] + r["rejected"])
        out.put("sql_rate", cell, r["sql"], r["accepted"])
        out.put("mql_to_won_rate", cell, r["won"], r["n"])
        out.put("sla_first_contact_rate", cell, r["fc_met"], r["fc_counted"])
        out.put("sla_cadence_rate", cell, cad_met, cad_met + cad_missed)
        out.put("followed_up_rate", cell, r["fu"], r["fu_counted"])
        out.put("accepted_then_disqualified_rate", cell, r["atd"], r["accepted"])
        out.put("handoffs_withdrawn", cell, r["withdrawn"])
        if r["speeds"]:  # a handoff not yet called moves no percentile
            out.put("_speed_to_lead", cell, Decimal(repr(float(r["speed"]))), r["speeds"])


_COHORT_SUMS = ("n", "pending", "accepted", "rejected", "sql", "won", "fc_met", "fc_counted")
_COHORT_SUMS += ("speed", "speeds", "fu_counted", "fu", "rwc", "rtw", "atd", "withdrawn")


def _handoff_decisions(scope: _Days, out: _Results) -> None:
    """Acceptances and rejections by decided_at (a withdrawal is neither), and the share of
    the rejections marketing disputed."""
    decided = Handoff.objects.exclude(status=PENDING)
    rows = _grouped(
        decided,
        scope,
        "decided_at",
        REASON_DIMS,
        sals=Count("id", filter=Q(status=ACCEPTED)),
        rejections=Count("id", filter=Q(status=REJECTED)),
        disputed=Count("id", filter=evidence.disputed()),
    )
    for cell, r in rows:
        if cell[1] != "reason":
            out.put("sals", cell, r["sals"])
        out.put("rejections", cell, r["rejections"])
        out.put("dispute_rate", cell, r["disputed"], r["rejections"])


def _disputes(scope: _Days, out: _Results) -> None:
    """Disputes settled, by the time the second head confirmed: the share overturned."""
    rows = _grouped(
        Dispute.objects.filter(evidence.dispute_resolved()),
        scope,
        "resolved_at",
        DISPUTE_DIMS,
        resolved=Count("id"),
        overturned=Count("id", filter=evidence.dispute_overturned()),
    )
    for cell, r in rows:
        out.put("dispute_overturn_rate", cell, r["overturned"], r["resolved"])


def _sqls(scope: _Days, out: _Results) -> None:
    events = StageEvent.objects.filter(stage=Stage.SQL)
    for cell, row in _grouped(events, scope, "occurred_at", VIA_LEAD_DIMS, n=Count("id")):
        out.put("sqls", cell, row["n"])


_CYCLE = ExpressionWrapper(F("closed_at") - F("lead__created_at"), output_field=DurationField())


def _deals(scope: _Days, out: _Results) -> None:
    """Opportunities and outcomes; the open pipeline's change (a deal adds its amount on the
    day it opens and takes it away on the day it closes); the sum and count of won deals'
    cycles, which tell which periods' median changed."""
    amount = Coalesce(Sum("amount"), ZERO, output_field=DecimalField())
    for cell, row in _grouped(
        Deal.objects, scope, "created_at", VIA_LEAD_DIMS, n=Count("id"), total=amount
    ):
        out.put("opportunities", cell, row["n"])
        out.add("_pipeline", cell, row["total"], row["n"])
    won, lost = Q(status=Deal.Status.WON), Q(status=Deal.Status.LOST)
    closed = Deal.objects.filter(closed_at__isnull=False)
    rows = _grouped(
        closed,
        scope,
        "closed_at",
        VIA_LEAD_DIMS,
        n=Count("id"),
        total=amount,
        won=Count("id", filter=won),
        lost=Count("id", filter=lost),
        revenue=Coalesce(Sum("amount", filter=won), ZERO, output_field=DecimalField()),
        cycle=Sum(_CYCLE, filter=won),
    )
    for cell, r in rows:
        out.put("deals_won", cell, r["won"])
        out.put("deals_lost", cell, r["lost"])
        out.put("revenue_won", cell, r["revenue"])
        out.put("avg_deal_size", cell, r["revenue"], r["won"])
        out.put("win_rate", cell, r["won"], r["won"] + r["lost"])
        out.add("_pipeline", cell, -r["total"], -r["n"])
        seconds = r["cycle"].total_seconds() if r["cycle"] else 0
        if r["won"]:
            out.put("_sales_cycle", cell, Decimal(repr(seconds)), r["won"])


def _campaign_costs(scope: _Days, out: _Results) -> None:
    """Each campaign's cost spread evenly over its days, per day, campaign and channel."""
    days = list(scope.days())
    campaigns = Campaign.objects.filter(starts_on__lte=days[-1], ends_on__gte=days[0])
    for external_id, channel, starts, ends, cost in campaigns.values_list(
        "external_id", "channel", "starts_on", "ends_on", "cost"
    ):
        share = Decimal(cost) / ((ends - starts).days + 1)
        for day in days:
            if starts <= day <= ends:
                for cell in [
                    (day, "", ""),
                    (day, "campaign", external_id),
                    (day, "channel", channel),
                ]:
                    out.add("campaign_cost", cell, share)


def _attribution(scope: _Days, out: _Results) -> None:
    """Stream the day's won deals with their touches through every model; credit campaigns
    and channels (the total is the revenue, whatever the touches)."""
    channels = dict(Campaign.objects.values_list("external_id", "channel"))
    for day, deal, touches in _won_deals_with_touches(scope):
        credits = attribution.credit_all(
            touches,
            amount=deal["amount"],
            closed_at=deal["closed_at"],
            created_at=deal["created_at"],
            first_mql_at=deal["first_mql_at"],
        )
        for model, by_campaign in credits.items():
            out.add("attributed_revenue", (day, "", ""), deal["amount"], model=model)
            for campaign, amount in by_campaign.items():
                channel = channels.get(campaign, NO_CHANNEL)
                out.add("attributed_revenue", (day, "campaign", str(campaign)), amount, model=model)
                out.add("attributed_revenue", (day, "channel", channel), amount, model=model)


def _won_deals_with_touches(
    scope: _Days, chunk: int = 2000
) -> Iterator[tuple[date, dict, list[attribution.Touch]]]:
    first_mql = (
        StageEvent.objects.filter(lead=OuterRef("lead_id"), stage=Stage.MQL)
        .order_by()
        .values("lead")
        .annotate(at=Min("occurred_at"))
        .values("at")
    )
    deals = (
        Deal.objects.filter(scope.in_range("closed_at"), status=Deal.Status.WON)
        .annotate(p=scope.trunc("closed_at"), first_mql_at=Subquery(first_mql))
        .values("id", "lead_id", "amount", "created_at", "closed_at", "first_mql_at", "p")
        .order_by("id")
    )
    for batch in _batches(deals.iterator(chunk_size=chunk), chunk):
        touches: dict[int, list[attribution.Touch]] = defaultdict(list)
        rows = (
            Touch.objects.filter(lead_id__in={d["lead_id"] for d in batch})
            .values_list("lead_id", "id", "occurred_at", "campaign__external_id")
            .order_by()
        )
        for lead_id, touch_id, occurred_at, campaign in rows:
            touches[lead_id].append(attribution.Touch(touch_id, occurred_at, campaign))
        for deal in batch:
            yield deal["p"], deal, touches.get(deal["lead_id"], [])


def _batches(items: Iterable[dict], size: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass(frozen=True)
class _Family:
    """A family of daily values: the funnel's part whose records it reads (the change log
    names it), how it is computed, and the metrics it writes."""

    part: str
    compute: Callable[[_Days, _Results], None]
    metrics: tuple[str, ...]


FAMILIES = (
    _Family("leads", _leads, ("leads_created", *FUNNEL_STEPS)),
    _Family(
        "handoffs",
        _handoff_cohorts,
        (
            "mqls",
            "handoffs_pending",
            "acceptance_rate",
            "sql_rate",
            "mql_to_won_rate",
            "sla_first_contact_rate",
            "sla_cadence_rate",
            "_speed_to_lead",
            "followed_up_rate",
            "rejected_without_contact_rate",
            "rejected_then_won_rate",
            "accepted_then_disqualified_rate",
            "handoffs_withdrawn",
        ),
    ),
    _Family("decisions", _handoff_decisions, ("sals", "rejections", "dispute_rate")),
    _Family("disputes", _disputes, ("dispute_overturn_rate",)),
    _Family("stages", _sqls, ("sqls",)),
    _Family(
        "deals",
        _deals,
        (
            "opportunities",
            "deals_won",
            "deals_lost",
            "revenue_won",
            "avg_deal_size",
            "win_rate",
            "_pipeline",
            "_sales_cycle",
        ),
    ),
    _Family("campaigns", _campaign_costs, ("campaign_cost",)),
    _Family("wins", _attribution, ("attributed_revenue",)),
)


def _stored(value: Decimal | None) -> Decimal | None:
    """A value as `KpiDaily` keeps it (to compare a computed value with a stored one)."""
    return None if value is None else round(Decimal(value), 9)


def days_refresh(
    *,
    days: Iterable[date] = (),
    parts: Mapping[str, Iterable[date]] | None = None,
    now: datetime,
) -> set[tuple[str, date]]:
    """Recompute into `KpiDaily` every family on `days`, and each family on the days logged
    for its part of the funnel (`parts`), writing only the rows that changed. Returns the
    (metric, day) pairs that changed."""
    every, parts = set(days), parts or {}
    tz = ZoneInfo(settings.TIME_ZONE)
    changed: set[tuple[str, date]] = set()
    for family in FAMILIES:
        runs = day_runs(every | set(parts.get(family.part, ())))
        if runs:
            out = _Results()
            family.compute(_Days(runs, tz, now), out)
            changed |= _days_write(out.values(), metrics=family.metrics, runs=runs)
    return changed


def _days_write(
    values: list[Value_], *, metrics: tuple[str, ...], runs: tuple[tuple[date, date], ...]
) -> set[tuple[str, date]]:
    computed = {(v.metric, v.period_start, v.dimension, v.key, v.model): v for v in values}
    stored: dict[tuple, tuple] = {}
    existing = KpiDaily.objects.filter(_in_runs("day", runs), metric__in=metrics)
    for row in existing.values_list(
        "id", "metric", "day", "dimension", "key", "model", "numerator", "denominator"
    ).iterator(chunk_size=5000):
        stored[row[1:6]] = (row[0], _stored(row[6]), _stored(row[7]))
    gone = [pk for key, (pk, _, _) in stored.items() if key not in computed]
    changed = {key[:2] for key in stored if key not in computed}
    upserts = []
    for key, v in computed.items():
        before = stored.get(key)
        if before is None or before[1:] != (_stored(v.numerator), _stored(v.denominator)):
            changed.add(key[:2])
            metric, day, dimension, member, model = key
            upserts.append(
                KpiDaily(
                    metric=metric,
                    day=day,
                    dimension=dimension,
                    key=member,
                    model=model,
                    numerator=v.numerator,
                    denominator=v.denominator,
                )
            )
    rows_sync(
        KpiDaily,
        gone=gone,
        rows=upserts,
        unique_fields=["metric", "day", "dimension", "key", "model"],
        update_fields=["numerator", "denominator"],
    )
    return changed


def _in_runs(field: str, runs: Iterable[tuple[date, date]]) -> Q:
    q = Q()
    for first, last in runs:
        q |= Q(**{f"{field}__gte": first, f"{field}__lte": last})
    return q


# --- stage 2: periods -------------------------------------------------------------------------

#: What each derived metric is computed from (the rest are sums of days, or read raw rows),
#: values and cells: a campaign's cost is shown on every cell with its leads, SQLs or wins,
#: and its attributed revenue on every cell with a cost.
_BASES = frozenset({"campaign_cost", "leads_created", "sqls", "deals_won"})
DERIVED_FROM: dict[str, frozenset[str]] = {
    "campaign_cost": _BASES,
    "cost_per_lead": _BASES,
    "cost_per_sql": _BASES,
    "cost_per_customer": _BASES,
    "attributed_revenue": frozenset({"attributed_revenue", "campaign_cost"}),
    "campaign_roi": frozenset({"attributed_revenue", "campaign_cost"}),
    "marketing_sla_attainment": frozenset({"sals"}),
    "forecast_accuracy": frozenset({"revenue_won"}),
}
#: The metrics each of the engine's own daily inputs moves.
MOVED_BY: dict[str, tuple[str, ...]] = {
    "_speed_to_lead": ("speed_to_lead_median_hours", "speed_to_lead_p90_hours"),
    "_sales_cycle": ("sales_cycle_median_days",),
    "_pipeline": ("pipeline_open",),
}
_GOALS = frozenset({"goal_attainment", "scorecard_attainment"})
_PERCENTILES = {
    "speed_to_lead_median_hours": 0.5,
    "speed_to_lead_p90_hours": 0.9,
    "sales_cycle_median_days": 0.5,
}


def metrics_moved(changed: Iterable[str]) -> set[str]:
    """The metrics a change of these daily metrics moves: themselves (or what the engine's own
    inputs stand for), and what is derived from them."""
    moved: set[str] = set()
    for metric in changed:
        moved |= set(MOVED_BY.get(metric, (metric,)))
    while more := {m for m, inputs in DERIVED_FROM.items() if inputs & moved} - moved:
        moved |= more
    return moved


def _needed(targets: set[str], goal_metrics: set[str]) -> set[str]:
    needed = set(targets) | (goal_metrics if targets & _GOALS else set())
    while more := {i for m in needed for i in DERIVED_FROM.get(m, ())} - needed:
        needed |= more
    return needed


def _summed(scope: _Scope, out: _Results, metrics: set[str]) -> None:
    """The periods' sums of their days, one GROUP BY over `KpiDaily`."""
    first, end = scope.periods[0], next_period(scope.kind, scope.periods[-1])
    rows = (
        KpiDaily.objects.filter(day__gte=first, day__lt=end, metric__in=sorted(metrics))
        .annotate(p=Trunc("day", scope.kind, output_field=DateField()))
        .values_list("metric", "p", "dimension", "key", "model")
        .annotate(n=Sum("numerator"), d=Sum("denominator"))
        .order_by()
    )
    for metric, p, dimension, key, model, n, d in rows.iterator(chunk_size=5000):
        # The days keep 12 places (a cost spread over 7 days is a repeating decimal); their
        # sum is shown to the 6 a snapshot keeps, so 7 sevenths of 100 are 100 again.
        out.put(metric, (p, dimension, key), six_places(n), six_places(d), model=model)


def six_places(value: Decimal | None) -> Decimal | None:
    """A value to the 6 places a snapshot keeps."""
    return None if value is None else round(Decimal(value), 6)


def _pipeline(scope: _Scope, out: _Results) -> None:
    """Open pipeline at each period's end: the running sum of its daily changes."""
    end = next_period(scope.kind, scope.periods[-1])
    rows = (
        KpiDaily.objects.filter(metric="_pipeline", day__lt=end)
        .annotate(p=Trunc("day", scope.kind, output_field=DateField()))
        .values_list("p", "dimension", "key")
        .annotate(amount=Sum("numerator"), deals=Sum("denominator"))
        .order_by("p")
    )
    by_period: dict[date, list[tuple]] = defaultdict(list)
    for p, dimension, key, amount, deals in rows:
        by_period[p].append((dimension, key, amount, deals))
    running: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    wanted = set(scope.periods)
    for start in sorted(set(by_period) | wanted):
        for dimension, key, amount, deals in by_period.get(start, ()):
            level = running[(dimension, key)]
            level[0] += amount
            level[1] += deals
        if start in wanted:
            for (dimension, key), (amount, deals) in running.items():
                if deals > 0:
                    out.put("pipeline_open", (start, dimension, key), amount)


def _percentile_metrics(scope: _Scope, out: _Results, metrics: set[str]) -> None:
    hours = ExpressionWrapper(F("speed_to_lead_hours"), output_field=FloatField())
    for metric in ("speed_to_lead_median_hours", "speed_to_lead_p90_hours"):
        if metric in metrics:
            for cell, value in _percentiles(
                Handoff.objects, scope, "handed_at", hours, HANDOFF_DIMS, _PERCENTILES[metric]
            ):
                out.put(metric, cell, Decimal(repr(value)))
    if "sales_cycle_median_days" in metrics:
        won_deals = Deal.objects.filter(status=Deal.Status.WON)
        for cell, value in _percentiles(won_deals, scope, "closed_at", _CYCLE, VIA_LEAD_DIMS, 0.5):
            out.put(
                "sales_cycle_median_days",
                cell,
                Decimal(value / timedelta(days=1)).quantize(Decimal("0.0001")),
            )


_COST_PER = (
    ("cost_per_lead", "leads_created"),
    ("cost_per_sql", "sqls"),
    ("cost_per_customer", "deals_won"),
)


def _costs(out: _Results) -> dict[Cell, Decimal]:
    return {
        (p, d, k): rest[0] for (m, p, d, k, _), rest in out.cells.items() if m == "campaign_cost"
    }


def _marketing(scope: _Scope, out: _Results, costs: dict[Cell, Decimal]) -> None:
    cells = set(costs) | {(p, "", "") for p in scope.periods}
    # A campaign's leads, SQLs and wins keep coming after its cost has stopped: those cells
    # count in the denominators too, or the months would not add up to their quarter.
    bases = {base for _, base in _COST_PER}
    cells |= {(p, d, k) for (m, p, d, k, _) in out.cells if m in bases and d in COST_DIMS}
    for cell in cells:
        cost = costs.get(cell, ZERO)
        out.put("campaign_cost", cell, cost)
        for metric, base in _COST_PER:
            found = out.get(base, cell)
            out.put(metric, cell, cost, found[0] if found else 0)
    slas = list(
        ServiceLevelAgreement.objects.filter(status=ServiceLevelAgreement.Status.APPROVED)
        .order_by("effective_from", "version")
        .values_list("effective_from", "monthly_sal_commitment")
    )
    for start in scope.periods:
        at = local_midnight(start, scope.tz)
        committed = [n for since, n in slas if since <= at]
        if committed:
            sals = out.get("sals", (start, "", ""))
            target = Decimal(committed[-1]) * _SAL_FACTOR[scope.kind]
            out.put("marketing_sla_attainment", (start, "", ""), sals[0] if sals else 0, target)


def _roi(scope: _Scope, out: _Results, costs: dict[Cell, Decimal]) -> None:
    """Attributed revenue against cost, per model, on every cell either has."""
    for model in attribution.MODELS:
        credited = {
            (p, d, k): rest[0]
            for (m, p, d, k, mo), rest in out.cells.items()
            if m == "attributed_revenue" and mo == model
        }
        cells = set(credited) | set(costs) | {(p, "", "") for p in scope.periods}
        for cell in cells:
            revenue = credited.get(cell, ZERO)
            cost = costs.get(cell, ZERO)
            out.put("attributed_revenue", cell, revenue, model=model)
            out.put("campaign_roi", cell, revenue - cost, cost, model=model)


#: The weeks a week's joint-meeting count is the mean over: itself and the three before it.
ROLLING_WEEKS = 4
_HABITS = frozenset({"joint_meetings_per_week", "insight_answer_median_days"})


def _joint_meetings(scope: _Scope, out: _Results) -> None:
    """`joint_meetings_per_week`: meetings attended by at least one marketing and one sales
    person (their team as recorded on the attendance), counted by local start week.

    A week's value is the 4-week rolling mean: the joint meetings of the week and the three
    before it ÷ 4. A month's or a quarter's is its joint meetings ÷ its weeks (days ÷ 7), so a
    quarter is its months re-added. Every period has a value (no meetings is 0 a week).
    """
    present = MeetingAttendee.objects.filter(meeting=OuterRef("pk"))
    joint = Meeting.objects.filter(
        Exists(present.filter(team="marketing")), Exists(present.filter(team="sales"))
    )
    rolling = scope.kind == "week"
    first = scope.periods[0] - timedelta(weeks=ROLLING_WEEKS - 1) if rolling else scope.periods[0]
    counts = dict(
        joint.filter(starts_at__gte=local_midnight(first, scope.tz), starts_at__lt=scope.end)
        .annotate(p=scope.trunc("starts_at"))
        .values_list("p")
        .annotate(n=Count("id"))
        .order_by()
    )
    for start in scope.periods:
        cell = (start, "", "")
        if rolling:
            weeks = [start - timedelta(weeks=n) for n in range(ROLLING_WEEKS)]
            out.put("joint_meetings_per_week", cell, sum(counts.get(w, 0) for w in weeks), 4)
        else:
            days = (next_period(scope.kind, start) - start).days
            weeks = six_places(Decimal(days) / 7)
            out.put("joint_meetings_per_week", cell, counts.get(start, 0), weeks)


def _insight_answers(scope: _Scope, out: _Results) -> None:
    """`insight_answer_median_days`: the median days from a field insight to marketing's
    answer, over the insights answered in the period (none answered: no value)."""
    waited = ExpressionWrapper(F("answered_at") - F("posted_at"), output_field=DurationField())
    answered = FieldInsight.objects.filter(answered_at__isnull=False)
    found = dict(_percentiles(answered, scope, "answered_at", waited, {}, 0.5))
    for start in scope.periods:
        cell = (start, "", "")
        if cell in found:
            days = Decimal(found[cell] / timedelta(days=1)).quantize(Decimal("0.0001"))
            out.put("insight_answer_median_days", cell, days)
        else:
            out.put("insight_answer_median_days", cell, 0, empty=True)


def _alignment(scope: _Scope, out: _Results) -> None:
    """The habits (joint meetings, insight answers), forecast accuracy, then each goal's
    attainment and the scorecard, from `out`.

    Runs after every other family, so goals read the same computation's values (never stored
    snapshots), the habits' included.
    """
    _joint_meetings(scope, out)
    _insight_answers(scope, out)
    for forecast in RevenueForecast.objects.filter(
        period=scope.kind, period_start__in=scope.periods
    ):
        cell = (forecast.period_start, "", "")
        revenue = out.get("revenue_won", cell)
        accuracy = card.forecast_accuracy(revenue[0] if revenue else ZERO, forecast.amount)
        out.put("forecast_accuracy", cell, accuracy.numerator, accuracy.denominator)

    goals: dict[date, list[Goal]] = defaultdict(list)
    for goal in Goal.objects.filter(period=scope.kind, period_start__in=scope.periods).order_by(
        "id"
    ):
        goals[goal.period_start].append(goal)
    curves = payout_curves() if goals else []
    for start, period_goals in goals.items():
        cap = payout_curve_for(period_start=start, curves=curves).cap
        weighted = []
        elapsed = elapsed_share(scope.kind, start, scope.now, scope.tz)
        for goal in period_goals:
            definition = METRICS.get(goal.metric)
            if definition is None or not definition.goal_target:
                continue
            found = out.get(goal.metric, (start, goal.dimension, goal.key), goal.model)
            score = card.goal_score(
                card.goal_actual(definition, found[0], found[1], empty=found[2])
                if found
                else definition.empty_value(),
                goal.target,
                higher_is_better=goal.higher_is_better,
                cap=cap,
                elapsed=elapsed,
                accumulates=definition.accumulates,
            )
            if score.attainment is not None:
                out.put("goal_attainment", (start, "goal", str(goal.pk)), *_ratio(score.attainment))
            weighted.append((score.attainment.value if score.attainment else None, goal.weight))
        total = card.scorecard_attainment(weighted, cap=cap)
        out.put("scorecard_attainment", (start, "", ""), *_ratio(total))


def _ratio(ratio: card.Ratio) -> tuple[Decimal, Decimal]:
    return ratio.numerator, ratio.denominator


# --- entry points -----------------------------------------------------------------------------

# Every metric but the alignment ones, which `_alignment` computes from the goals.
_COUNT_METRICS = [m.key for m in METRICS.values() if m.family != "alignment"]


def _check(kind: str, periods: Iterable[date]) -> tuple[date, ...]:
    starts = tuple(sorted(set(periods)))
    if any(period_start(kind, p) != p for p in starts):
        raise ValueError(f"Not all of {starts} are starts of a {kind}.")
    return starts


def periods_compute(
    *,
    kind: str,
    periods: Iterable[date],
    now: datetime | None = None,
    metrics: Iterable[str] | None = None,
) -> list[Value_]:
    """The values of these periods of one kind from the stored days (`days_refresh` them
    first): every metric, or only `metrics` (computing what they are derived from)."""
    starts = _check(kind, periods)
    if not starts:
        return []
    scope = _Scope(kind, starts, ZoneInfo(settings.TIME_ZONE), now or timezone.now())
    goals = Goal.objects.filter(period=kind, period_start__in=starts)
    targets = set(METRICS) if metrics is None else set(metrics)
    if targets - _GOALS and goals.exists():
        targets |= _GOALS  # a goal may read any metric
    needed = _needed(targets, set(goals.values_list("metric", flat=True)))
    out = _Results()
    _summed(scope, out, needed - {"pipeline_open", *_PERCENTILES})
    if "pipeline_open" in needed:
        _pipeline(scope, out)
    _percentile_metrics(scope, out, needed)
    costs = _costs(out)
    if needed & {"campaign_cost", "marketing_sla_attainment", *(m for m, _ in _COST_PER)}:
        _marketing(scope, out, costs)
    if needed & {"attributed_revenue", "campaign_roi"}:
        _roi(scope, out, costs)
    _fill_totals(scope, out, targets)
    if targets & (_GOALS | _HABITS | {"forecast_accuracy"}):
        _alignment(scope, out)
    return [v for v in out.values() if v.period_start in starts and v.metric in targets]


def compute(*, kind: str, periods: Iterable[date], now: datetime | None = None) -> list[Value_]:
    """Every metric of SPEC §4–5 for these periods of one kind, with
    their days (and, for the open pipeline, every day before) recomputed first."""
    starts = _check(kind, periods)
    if not starts:
        return []
    now = now or timezone.now()
    first = min(starts[0], _first_day() or starts[0])
    last = next_period(kind, starts[-1]) - timedelta(days=1)
    days_refresh(days=[first + timedelta(days=n) for n in range((last - first).days + 1)], now=now)
    return periods_compute(kind=kind, periods=starts, now=now)


def _first_day() -> date | None:
    """The first local day any deal opened (the open pipeline runs from there)."""
    first = Deal.objects.aggregate(m=Min("created_at"))["m"]
    return first.astimezone(ZoneInfo(settings.TIME_ZONE)).date() if first else None


def _fill_totals(scope: _Scope, out: _Results, targets: set[str]) -> None:
    """Every period has a total for every metric: counts 0, ratios 0 of 0, percentiles none."""
    for start in scope.periods:
        cell = (start, "", "")
        for key in _COUNT_METRICS:
            if key not in targets:
                continue
            definition = METRICS[key]
            models = attribution.MODELS if definition.by_model else ("",)
            for model in models:
                if out.get(key, cell, model) is not None:
                    continue
                if definition.target_denominator:
                    continue  # no commitment in effect: nothing to attain
                out.put(
                    key,
                    cell,
                    0,
                    definition.empty_denominator(),
                    model=model,
                    empty=definition.is_percentile,
                )
