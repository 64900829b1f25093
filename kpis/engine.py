"""The metric engine: SPEC §4 and §5 computed from the event tables, in SQL.

`compute(kind=..., periods=...)` returns every value of every metric for the given periods of
one kind. Each family of metrics is one GROUP BY per source table, time column and dimension
(all periods at once); ratios keep their numerator and denominator. Python only combines the
aggregated rows, streams won deals' touch lists through the attribution models, and spreads
campaign costs over days (campaigns are few).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    DateField,
    DecimalField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
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
    TruncMonth,
    TruncQuarter,
    TruncWeek,
)
from django.utils import timezone

from alignment import scorecard as card
from alignment.models import Goal, RevenueForecast, ServiceLevelAgreement
from alignment.selectors import payout_curve_for, payout_curves
from core import attribution
from core.catalog import COST_DIMS, METRICS
from core.periods import elapsed_share, local_midnight, next_period, period_start
from leads.models import Campaign, ContactAttempt, Deal, Handoff, Lead, Stage, StageEvent, Touch

ZERO = Decimal(0)
NO_CAMPAIGN = attribution.NO_CAMPAIGN
NO_CHANNEL = "(no channel)"
UNASSIGNED = "(unassigned)"
_TRUNC = {"week": TruncWeek, "month": TruncMonth, "quarter": TruncQuarter}
_MISSING_KEY = {"campaign": NO_CAMPAIGN, "channel": NO_CHANNEL, "owner": UNASSIGNED}
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

    def get(self, metric: str, cell: Cell, model: str = "") -> list | None:
        return self.cells.get((metric, *cell, model))

    def values(self) -> list[Value_]:
        return [Value_(m, p, d, k, mo, *rest) for (m, p, d, k, mo), rest in self.cells.items()]


@dataclass(frozen=True)
class _Scope:
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


def _dimensions(lead: str, owner: str, *, reason: bool = False) -> dict[str, str]:
    dims = {
        "campaign": f"{lead}campaign__external_id",
        "channel": f"{lead}campaign__channel",
        "owner": f"{owner}username",
        "segment": f"{lead}segment",
    }
    if reason:
        dims["reason"] = "reason__code"
    return dims


LEAD_DIMS = _dimensions("", "owner__")
HANDOFF_DIMS = _dimensions("lead__", "owner__")
VIA_LEAD_DIMS = _dimensions("lead__", "lead__owner__")


def _grouped(
    qs: QuerySet, scope: _Scope, time_field: str, dims: dict[str, str], **aggregates: object
) -> Iterator[tuple[Cell, dict]]:
    """One GROUP BY over (period, every dimension) rolled up to the totals and each dimension.

    The aggregates must be additive (counts, sums): the database groups the raw rows once at
    the finest grain, and Python adds up the few grouped rows per member.
    """
    columns = {f"d_{dimension}": F(path) for dimension, path in dims.items()}
    rows = (
        qs.filter(scope.in_range(time_field))
        .annotate(p=scope.trunc(time_field), **columns)
        .values("p", *columns)
        .annotate(**aggregates)
        .order_by()
    )
    cells: dict[Cell, dict] = {}
    for row in rows:
        period = row.pop("p")
        members = [(dimension, _key(dimension, row.pop(f"d_{dimension}"))) for dimension in dims]
        for cell in [(period, "", ""), *((period, d, k) for d, k in members if k is not None)]:
            sums = cells.setdefault(cell, dict.fromkeys(row, 0))
            for name, value in row.items():
                sums[name] += value or 0
    yield from cells.items()


def _key(dimension: str, raw: object) -> str | None:
    if raw in (None, ""):
        return "" if dimension == "" else _MISSING_KEY.get(dimension)
    return str(raw)


def _percentiles(
    qs: QuerySet, scope: _Scope, time_field: str, value: object, dims: dict[str, str], q: float
) -> Iterator[tuple[Cell, object]]:
    """Continuous percentile `q` of `value` per period and member, picked by SQL windows."""
    base = (
        qs.filter(scope.in_range(time_field))
        .annotate(p=scope.trunc(time_field), v=value)
        .filter(v__isnull=False)
    )
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


# --- families -------------------------------------------------------------------------------


def _leads_created(scope: _Scope, out: _Results) -> None:
    for cell, row in _grouped(Lead.objects, scope, "created_at", LEAD_DIMS, n=Count("id")):
        out.put("leads_created", cell, row["n"])


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


def _lead_funnel(scope: _Scope, out: _Results) -> None:
    """The leads created in the period, each counted once at every stage up to the furthest
    it has reached by now (a handoff is an MQL, a deal an opportunity, a won deal a win), so
    no step exceeds the one before. One GROUP BY over leads by created_at."""
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
    steps = {m: Count("id", filter=Q(reach__gte=n)) for n, m in enumerate(FUNNEL_STEPS, 1)}
    qs = Lead.objects.annotate(reach=furthest)
    for cell, row in _grouped(qs, scope, "created_at", LEAD_DIMS, **steps):
        for metric in FUNNEL_STEPS:
            out.put(metric, cell, row[metric])


def _lead_max(qs: QuerySet, rank: Max) -> Coalesce:
    """The highest `rank` over a lead's rows of `qs` (0 without any), as a subquery."""
    ranked = qs.order_by().values("lead").annotate(r=rank).values("r")
    return Coalesce(Subquery(ranked, output_field=IntegerField()), Value(0))


def _handoff_cohorts(scope: _Scope, out: _Results) -> None:
    """MQLs and every cohort metric: one query per dimension over handoffs by handed_at."""
    sql_after = StageEvent.objects.filter(
        lead=OuterRef("lead_id"), stage=Stage.SQL, occurred_at__gte=OuterRef("handed_at")
    )
    won_deal = Deal.objects.filter(lead=OuterRef("lead_id"), status=Deal.Status.WON)
    window = {
        "occurred_at__gte": OuterRef("handed_at"),
        "occurred_at__lte": OuterRef("cadence_due_at"),
    }
    sql_in_window = StageEvent.objects.filter(lead=OuterRef("lead_id"), stage=Stage.SQL, **window)
    success_in_window = ContactAttempt.objects.filter(
        lead=OuterRef("lead_id"),
        outcome__in=[ContactAttempt.Outcome.CONNECTED, ContactAttempt.Outcome.MEETING_BOOKED],
        **window,
    )
    attempts_in_window = (
        ContactAttempt.objects.filter(lead=OuterRef("lead_id"), **window)
        .order_by()
        .values("lead")
        .annotate(c=Count("id"))
        .values("c")
    )
    qs = Handoff.objects.annotate(
        sql_after=Exists(sql_after),
        won=Exists(won_deal),
        closed_out=Exists(sql_in_window)
        | Exists(success_in_window)
        | Q(status=Handoff.Status.REJECTED, decided_at__lte=F("cadence_due_at")),
        window_attempts=Coalesce(Subquery(attempts_in_window, output_field=IntegerField()), 0),
    )
    responded = Q(responded_at__isnull=False)
    cadence_due = Q(cadence_due_at__lte=scope.now, closed_out=False)
    accepted, rejected = Handoff.Status.ACCEPTED, Handoff.Status.REJECTED
    rows = _grouped(
        qs,
        scope,
        "handed_at",
        HANDOFF_DIMS,
        n=Count("id"),
        pending=Count("id", filter=Q(status=Handoff.Status.PENDING)),
        accepted=Count("id", filter=Q(status=accepted)),
        rejected=Count("id", filter=Q(status=rejected)),
        sql=Count("id", filter=Q(status=accepted, sql_after=True)),
        won=Count("id", filter=Q(won=True)),
        fc_met=Count("id", filter=responded & Q(responded_at__lte=F("first_contact_due_at"))),
        fc_counted=Count("id", filter=responded | Q(first_contact_due_at__lte=scope.now)),
        cad_counted=Count("id", filter=cadence_due),
        cad_met=Count("id", filter=cadence_due & Q(window_attempts__gte=F("sla__attempts"))),
    )
    for cell, r in rows:
        out.put("mqls", cell, r["n"])
        out.put("handoffs_pending", cell, r["pending"])
        out.put("acceptance_rate", cell, r["accepted"], r["accepted"] + r["rejected"])
        out.put("sql_rate", cell, r["sql"], r["accepted"])
        out.put("mql_to_won_rate", cell, r["won"], r["n"])
        out.put("sla_first_contact_rate", cell, r["fc_met"], r["fc_counted"])
        out.put("sla_cadence_rate", cell, r["cad_met"], r["cad_counted"])
    hours = F("speed_to_lead_hours")
    for metric, q in [("speed_to_lead_median_hours", 0.5), ("speed_to_lead_p90_hours", 0.9)]:
        for cell, value in _percentiles(
            Handoff.objects, scope, "handed_at", hours, HANDOFF_DIMS, q
        ):
            out.put(metric, cell, Decimal(repr(value)))


def _handoff_decisions(scope: _Scope, out: _Results) -> None:
    dims = _dimensions("lead__", "owner__", reason=True)
    decided = Handoff.objects.exclude(status=Handoff.Status.PENDING)
    rows = _grouped(
        decided,
        scope,
        "decided_at",
        dims,
        sals=Count("id", filter=Q(status=Handoff.Status.ACCEPTED)),
        rejections=Count("id", filter=Q(status=Handoff.Status.REJECTED)),
    )
    for cell, r in rows:
        if cell[1] != "reason":
            out.put("sals", cell, r["sals"])
        out.put("rejections", cell, r["rejections"])


def _sqls(scope: _Scope, out: _Results) -> None:
    events = StageEvent.objects.filter(stage=Stage.SQL)
    for cell, row in _grouped(events, scope, "occurred_at", VIA_LEAD_DIMS, n=Count("id")):
        out.put("sqls", cell, row["n"])


def _deals(scope: _Scope, out: _Results) -> None:
    for cell, row in _grouped(Deal.objects, scope, "created_at", VIA_LEAD_DIMS, n=Count("id")):
        out.put("opportunities", cell, row["n"])
    won, lost = Q(status=Deal.Status.WON), Q(status=Deal.Status.LOST)
    closed = Deal.objects.filter(closed_at__isnull=False)
    rows = _grouped(
        closed,
        scope,
        "closed_at",
        VIA_LEAD_DIMS,
        won=Count("id", filter=won),
        lost=Count("id", filter=lost),
        revenue=Coalesce(Sum("amount", filter=won), ZERO, output_field=DecimalField()),
    )
    for cell, r in rows:
        out.put("deals_won", cell, r["won"])
        out.put("deals_lost", cell, r["lost"])
        out.put("revenue_won", cell, r["revenue"])
        out.put("avg_deal_size", cell, r["revenue"], r["won"])
        out.put("win_rate", cell, r["won"], r["won"] + r["lost"])
    cycle = ExpressionWrapper(F("closed_at") - F("lead__created_at"), output_field=DurationField())
    won_deals = Deal.objects.filter(won)
    for cell, value in _percentiles(won_deals, scope, "closed_at", cycle, VIA_LEAD_DIMS, 0.5):
        out.put(
            "sales_cycle_median_days",
            cell,
            Decimal(value / timedelta(days=1)).quantize(Decimal("0.0001")),
        )


def _pipeline(scope: _Scope, out: _Results) -> None:
    """Open pipeline at each period's end: one aggregate per period end and dimension."""
    for start in scope.periods:
        end = local_midnight(next_period(scope.kind, start), scope.tz)
        open_then = Deal.objects.filter(
            Q(closed_at__isnull=True) | Q(closed_at__gte=end), created_at__lt=end
        )
        for dimension, path in [("", None), *VIA_LEAD_DIMS.items()]:
            keyed = open_then.annotate(k=F(path) if path else Value(""))
            for row in keyed.values("k").annotate(s=Sum("amount")).order_by():
                key = _key(dimension, row["k"])
                if key is not None:
                    out.put("pipeline_open", (start, dimension, key), row["s"] or ZERO)


def _campaign_costs(scope: _Scope) -> dict[Cell, Decimal]:
    """Each campaign's cost spread evenly over its days, summed per period, campaign, channel."""
    first_day = scope.periods[0]
    last_day = next_period(scope.kind, scope.periods[-1]) - timedelta(days=1)
    costs: dict[Cell, Decimal] = defaultdict(Decimal)
    campaigns = Campaign.objects.filter(starts_on__lte=last_day, ends_on__gte=first_day)
    for external_id, channel, starts, ends, cost in campaigns.values_list(
        "external_id", "channel", "starts_on", "ends_on", "cost"
    ):
        length = (ends - starts).days + 1
        for start in scope.periods:
            end = next_period(scope.kind, start) - timedelta(days=1)
            days = (min(end, ends) - max(start, starts)).days + 1
            if days > 0:
                share = cost * days / length
                for cell in [
                    (start, "", ""),
                    (start, "campaign", external_id),
                    (start, "channel", channel),
                ]:
                    costs[cell] += share
    return costs


_COST_PER = (
    ("cost_per_lead", "leads_created"),
    ("cost_per_sql", "sqls"),
    ("cost_per_customer", "deals_won"),
)


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


def _attribution(scope: _Scope, out: _Results, costs: dict[Cell, Decimal]) -> None:
    """Stream won deals with their touches through every model; credit campaigns and channels."""
    channels = dict(Campaign.objects.values_list("external_id", "channel"))
    credited: dict[tuple[str, Cell], Decimal] = defaultdict(Decimal)
    for start, deal, touches in _won_deals_with_touches(scope):
        credits = attribution.credit_all(
            touches,
            amount=deal["amount"],
            closed_at=deal["closed_at"],
            created_at=deal["created_at"],
            first_mql_at=deal["first_mql_at"],
        )
        for model, by_campaign in credits.items():
            credited[(model, (start, "", ""))] += deal["amount"]
            for campaign, amount in by_campaign.items():
                channel = channels.get(campaign, NO_CHANNEL)
                credited[(model, (start, "campaign", str(campaign)))] += amount
                credited[(model, (start, "channel", channel))] += amount
    for model in attribution.MODELS:
        cells = {cell for (m, cell) in credited if m == model} | set(costs)
        cells |= {(p, "", "") for p in scope.periods}
        for cell in cells:
            revenue = credited.get((model, cell), ZERO)
            cost = costs.get(cell, ZERO)
            out.put("attributed_revenue", cell, revenue, model=model)
            out.put("campaign_roi", cell, revenue - cost, cost, model=model)


def _won_deals_with_touches(
    scope: _Scope, chunk: int = 2000
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


def _alignment(scope: _Scope, out: _Results) -> None:
    """Forecast accuracy, then each goal's attainment and the scorecard, from `out`.

    Runs after every other family, so goals read the same computation's values (never stored
    snapshots). `joint_meetings_per_week` needs meetings, which do not exist yet: it stays in
    the catalog but is not computed.
    """
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


# --- entry point ----------------------------------------------------------------------------

# Every metric but the alignment ones, which `_alignment` computes from the goals.
_COUNT_METRICS = [m.key for m in METRICS.values() if m.family != "alignment"]


def compute(*, kind: str, periods: Iterable[date], now: datetime | None = None) -> list[Value_]:
    """Every metric of SPEC §4–5 for these periods of one kind (but joint meetings)."""
    starts = tuple(sorted(set(periods)))
    if not starts:
        return []
    if any(period_start(kind, p) != p for p in starts):
        raise ValueError(f"Not all of {starts} are starts of a {kind}.")
    scope = _Scope(kind, starts, ZoneInfo(settings.TIME_ZONE), now or timezone.now())
    out = _Results()
    _leads_created(scope, out)
    _handoff_cohorts(scope, out)
    _lead_funnel(scope, out)
    _handoff_decisions(scope, out)
    _sqls(scope, out)
    _deals(scope, out)
    _pipeline(scope, out)
    costs = _campaign_costs(scope)
    _marketing(scope, out, costs)
    _attribution(scope, out, costs)
    _fill_totals(scope, out)
    _alignment(scope, out)
    return [v for v in out.values() if v.period_start in starts]


def _fill_totals(scope: _Scope, out: _Results) -> None:
    """Every period has a total for every metric: counts 0, ratios 0 of 0, percentiles none."""
    for start in scope.periods:
        cell = (start, "", "")
        for key in _COUNT_METRICS:
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
