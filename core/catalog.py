"""The metric catalog (SPEC §4): the one place that says what each metric is, how it adds up
over periods and members, and which team owns it. The engine, the API and the pages ask it.

How a metric aggregates (`Metric.aggregation`):

- **sum**: a count or an amount of the period's events. A range of periods (or a quarter of
  its months) is the sum; a period in progress grows towards its end.
- **ratio**: numerator ÷ denominator, both sums, so a range re-aggregates exactly
  ("34 of 80"). Nothing to divide is no value. A denominator set for each period instead of
  summed from its events (`target_denominator`: a commitment, or the period's length in weeks)
  is the period's own.
- **stock**: a level at the end of the period (open pipeline). A range is its last period's
  value; a period in progress is the level so far.
- **percentile**: a median or percentile of the period's values. It cannot be added up: one
  period's value, or none for a range.
- **attainment**: computed from the shared goals of one period (goal and scorecard
  attainment); goals cannot target it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

FUNNEL_DIMS = ("campaign", "channel", "owner", "segment")
COST_DIMS = ("campaign", "channel")


class Aggregation(StrEnum):
    SUM = "sum"
    RATIO = "ratio"
    STOCK = "stock"
    PERCENTILE = "percentile"
    ATTAINMENT = "attainment"

    @property
    def label(self) -> str:
        """How a range of periods (or a quarter of its months) reads it, in words."""
        return {
            "sum": "Summed over periods",
            "ratio": "Numerator and denominator summed, then divided",
            "stock": "Its level at the end of the last period",
            "percentile": "Per period only (cannot be added up)",
            "attainment": "Per goal and period, from the goals",
        }[self]


class Owner(StrEnum):
    """The team a metric belongs to (its colour on the pages)."""

    MARKETING = "marketing"
    SALES = "sales"
    JOINT = "joint"


SUM, RATIO, STOCK, PERCENTILE, ATTAINMENT = Aggregation
MARKETING, SALES, JOINT = Owner


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str  # count | currency | ratio | hours | days | per_week
    direction: str  # higher | lower (is better)
    family: str  # flow | cohort | sla | evidence | marketing | attribution | alignment
    definition: str
    dimensions: tuple[str, ...] = FUNNEL_DIMS
    by_model: bool = False
    aggregation: Aggregation = SUM
    team: Owner = SALES
    # The denominator is set for each period, not a count of events: a commitment (a quarter
    # commits what the SLA in effect at its start says, whatever its months did), or the
    # period's length in weeks (kept to 6 places, so a quarter's is its months' to 0.000001).
    target_denominator: bool = False

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher"

    @property
    def is_ratio(self) -> bool:
        """Kept as numerator and denominator (ratios and attainments)."""
        return self.aggregation in (RATIO, ATTAINMENT)

    @property
    def is_percentile(self) -> bool:
        return self.aggregation is PERCENTILE

    @property
    def summable(self) -> bool:
        """Whether numerators (and denominators) add up over periods and members."""
        return self.aggregation in (SUM, RATIO)

    @property
    def denominator_sums(self) -> bool:
        """Whether the denominator too is a sum of the period's events, so that a quarter's
        is its months' (a commitment is set per period instead)."""
        return self.aggregation is RATIO and not self.target_denominator

    @property
    def accumulates(self) -> bool:
        """Whether it grows through its period (event counts and sums), so that a period in
        progress compares pro-rated and projects linearly to its end. Cohort counts do not:
        handoffs leave the pending count as they are decided (and the withdrawn count grows
        long after its period)."""
        return self.aggregation is SUM and self.family not in ("cohort", "evidence")

    @property
    def goal_target(self) -> bool:
        """Whether a shared goal may target it (attainments come from the goals)."""
        return self.aggregation is not ATTAINMENT

    def empty_value(self) -> Decimal | None:
        """The value of a period with no rows: zero for sums and stocks, none otherwise."""
        return Decimal(0) if self.aggregation in (SUM, STOCK) else None

    def empty_denominator(self) -> Decimal | None:
        return Decimal(0) if self.is_ratio else None


_METRICS = [
    # --- flow counts: event time in the period ---
    Metric("leads_created", "Leads created", "count", "higher", "flow",
           "Leads whose creation time falls in the period.",
           aggregation=SUM, team=MARKETING),
    Metric("mqls", "MQLs", "count", "higher", "flow",
           "Handoffs to sales (marketing-qualified leads) made in the period.",
           aggregation=SUM, team=MARKETING),
    Metric("sals", "SALs", "count", "higher", "flow",
           "Handoffs sales accepted, counted when the decision was made.",
           aggregation=SUM, team=JOINT),
    Metric("rejections", "Rejections", "count", "lower", "flow",
           "Handoffs sales rejected, counted when the decision was made; broken down by reason.",
           dimensions=(*FUNNEL_DIMS, "reason"),
           aggregation=SUM, team=JOINT),
    Metric("sqls", "SQLs", "count", "higher", "flow",
           "Leads reaching the sales-qualified stage in the period (each `sql` stage event).",
           aggregation=SUM, team=SALES),
    Metric("opportunities", "Opportunities", "count", "higher", "flow",
           "Deals created in the period.",
           aggregation=SUM, team=SALES),
    Metric("deals_won", "Deals won", "count", "higher", "flow", "Deals won, by close date.",
           aggregation=SUM, team=SALES),
    Metric("deals_lost", "Deals lost", "count", "lower", "flow", "Deals lost, by close date.",
           aggregation=SUM, team=SALES),
    Metric("revenue_won", "Revenue won", "currency", "higher", "flow",
           "Sum of the amounts of deals won, by close date.",
           aggregation=SUM, team=SALES),
    Metric("avg_deal_size", "Average deal size", "currency", "higher", "flow",
           "Revenue won ÷ deals won.",
           aggregation=RATIO, team=SALES),
    Metric("win_rate", "Win rate", "ratio", "higher", "flow",
           "Deals won ÷ (deals won + deals lost), by close date.",
           aggregation=RATIO, team=SALES),
    Metric("pipeline_open", "Open pipeline", "currency", "higher", "flow",
           "Sum of the amounts of deals still open at the end of the period.",
           aggregation=STOCK, team=SALES),
    Metric("sales_cycle_median_days", "Sales cycle (median)", "days", "lower", "flow",
           "Median days from lead creation to close, over deals won in the period.",
           aggregation=PERCENTILE, team=SALES),
    # --- cohort rates: handoffs made in the period, followed to their outcome today ---
    Metric("handoffs_pending", "Handoffs pending", "count", "lower", "cohort",
           "Handoffs made in the period that sales has not yet accepted or rejected (and that "
           "were not withdrawn).",
           aggregation=SUM, team=JOINT),
    Metric("acceptance_rate", "Acceptance rate", "ratio", "higher", "cohort",
           "Of the handoffs made in the period and decided: accepted ÷ (accepted + rejected).",
           aggregation=RATIO, team=JOINT),
    Metric("sql_rate", "SQL rate", "ratio", "higher", "cohort",
           "Of the accepted handoffs made in the period: the share whose lead reached SQL "
           "after the handoff.",
           aggregation=RATIO, team=SALES),
    Metric("mql_to_won_rate", "MQL → won", "ratio", "higher", "cohort",
           "Of the handoffs made in the period: the share whose lead has a won deal.",
           aggregation=RATIO, team=JOINT),
    # --- the demand waterfall: leads created in the period, by the furthest stage reached ---
    *(
        Metric(key, label, "count", "higher", "cohort",
               f"Of the leads created in the period: those that have reached {stage} or a later "
               "stage by now, each lead counted once (a handoff counts as MQL, a deal as an "
               "opportunity, a won deal as won). One set of leads, so no step of the demand "
               "waterfall exceeds the one before.",
               aggregation=SUM, team=team)
        for key, label, stage, team in [
            ("funnel_mqls", "Leads reaching MQL", "MQL", MARKETING),
            ("funnel_sals", "Leads reaching SAL", "SAL", JOINT),
            ("funnel_sqls", "Leads reaching SQL", "SQL", SALES),
            ("funnel_opportunities", "Leads reaching opportunity", "opportunity", SALES),
            ("funnel_won", "Leads won", "won", SALES),
        ]
    ),
    Metric("speed_to_lead_median_hours", "Speed to lead (median)", "hours", "lower", "sla",
           "Median hours from handoff to the first contact attempt at or after it, over the "
           "period's contacted handoffs (business hours when the SLA sets them).",
           aggregation=PERCENTILE, team=SALES),
    Metric("speed_to_lead_p90_hours", "Speed to lead (90th percentile)", "hours", "lower", "sla",
           "90th percentile of the hours from handoff to first contact attempt.",
           aggregation=PERCENTILE, team=SALES),
    Metric("sla_first_contact_rate", "First contact within SLA", "ratio", "higher", "sla",
           "A handoff is responded at the earlier of its first attempt and its decision; met "
           "if responded within X hours of the handoff. Handoffs not yet responded whose "
           "deadline is still ahead are left out, and so are those withdrawn before their "
           "deadline without a response.",
           aggregation=RATIO, team=SALES),
    Metric("sla_cadence_rate", "Follow-up cadence within SLA", "ratio", "higher", "sla",
           "Over handoffs whose cadence window (X hours + (Y−1)·Z days) has passed and that "
           "were not closed out inside it (rejected or withdrawn, reached SQL, or an attempt "
           "connected or booked a meeting): the share with at least Y attempts inside the "
           "window.",
           aggregation=RATIO, team=SALES),
    # --- evidence: the lead-quality ledger both teams read (leads.evidence) ---
    Metric("followed_up_rate", "Leads followed up", "ratio", "higher", "evidence",
           "Of the handoffs made in the period: the share with a contact attempt at or after "
           "the handoff (before the decision, for a rejection or a withdrawal). Pending "
           "handoffs whose first-contact deadline is still ahead are left out.",
           aggregation=RATIO, team=SALES),
    Metric("rejected_without_contact_rate", "Rejected without contact", "ratio", "lower",
           "evidence",
           "Of the rejections of handoffs made in the period: the share decided before any "
           "contact attempt at or after the handoff; broken down by reason.",
           dimensions=(*FUNNEL_DIMS, "reason"),
           aggregation=RATIO, team=SALES),
    Metric("rejected_then_won_rate", "Rejected, then won", "ratio", "lower", "evidence",
           "Of the rejections of handoffs made in the period: the share whose lead later has a "
           "won deal closed after the rejection (through a later handoff or none). By reason, "
           "it shows which reasons are wrong most often.",
           dimensions=(*FUNNEL_DIMS, "reason"),
           aggregation=RATIO, team=JOINT),
    Metric("accepted_then_disqualified_rate", "Accepted, then disqualified", "ratio", "lower",
           "evidence",
           "Of the acceptances of handoffs made in the period: the share whose lead later "
           "reached the disqualified stage.",
           aggregation=RATIO, team=MARKETING),
    Metric("handoffs_withdrawn", "Handoffs withdrawn", "count", "lower", "evidence",
           "Handoffs made in the period that were closed because the lead left the funnel "
           "(recycled, disqualified or lost) before sales decided: neither accepted nor "
           "rejected.",
           aggregation=SUM, team=JOINT),
    Metric("dispute_rate", "Rejections disputed", "ratio", "lower", "evidence",
           "Of the rejections decided in the period: the share marketing disputed.",
           dimensions=(*FUNNEL_DIMS, "reason"),
           aggregation=RATIO, team=JOINT),
    Metric("dispute_overturn_rate", "Disputes overturned", "ratio", "lower", "evidence",
           "Of the disputes the two heads settled in the period (by the second head's "
           "confirmation): the share that overturned the rejection.",
           dimensions=(*FUNNEL_DIMS, "reason"),
           aggregation=RATIO, team=JOINT),
    # --- marketing side and cost ---
    Metric("marketing_sla_attainment", "Marketing SAL commitment", "ratio", "higher",
           "marketing",
           "SALs in the period ÷ the SLA's monthly SAL commitment N (a quarter commits 3·N, "
           "a week 12·N/52).", dimensions=(),
           aggregation=RATIO, team=MARKETING, target_denominator=True),
    Metric("campaign_cost", "Campaign cost", "currency", "lower", "marketing",
           "Campaign cost spread evenly over its days (start to end), summed per period.",
           dimensions=COST_DIMS,
           aggregation=SUM, team=MARKETING),
    Metric("cost_per_lead", "Cost per lead", "currency", "lower", "marketing",
           "Campaign cost ÷ leads created.", dimensions=COST_DIMS,
           aggregation=RATIO, team=MARKETING),
    Metric("cost_per_sql", "Cost per SQL", "currency", "lower", "marketing",
           "Campaign cost ÷ SQLs.", dimensions=COST_DIMS,
           aggregation=RATIO, team=MARKETING),
    Metric("cost_per_customer", "Cost per customer", "currency", "lower", "marketing",
           "Campaign cost ÷ deals won.", dimensions=COST_DIMS,
           aggregation=RATIO, team=MARKETING),
    Metric("attributed_revenue", "Attributed revenue", "currency", "higher", "attribution",
           "Won revenue credited to campaigns by an attribution model, by deal close date.",
           dimensions=("campaign", "channel"), by_model=True,
           aggregation=SUM, team=MARKETING),
    Metric("campaign_roi", "Campaign ROI", "ratio", "higher", "attribution",
           "(Attributed revenue − cost) ÷ cost, per campaign and attribution model.",
           dimensions=("campaign", "channel"), by_model=True,
           aggregation=RATIO, team=MARKETING),
    # --- alignment (computed from goals, forecasts and meetings) ---
    Metric("goal_attainment", "Goal attainment", "ratio", "higher", "alignment",
           "Per shared goal: actual ÷ target (target ÷ actual for lower-is-better goals; a "
           "lower-is-better actual of zero attains the payout cap).",
           dimensions=("goal",),
           aggregation=ATTAINMENT, team=JOINT),
    Metric("scorecard_attainment", "Scorecard attainment", "ratio", "higher", "alignment",
           "Weighted mean of the period's goal attainments, each capped at the payout cap "
           "(goals without a value yet are left out).",
           dimensions=(),
           aggregation=ATTAINMENT, team=JOINT),
    Metric("forecast_accuracy", "Forecast accuracy", "ratio", "higher", "alignment",
           "1 − |actual − forecast| ÷ actual, for a revenue forecast entered before the period.",
           dimensions=(),
           aggregation=RATIO, team=JOINT),
    Metric("joint_meetings_per_week", "Joint meetings per week", "per_week", "higher",
           "alignment",
           "Meetings whose attendees include at least one marketing and one sales person, "
           "counted by the week they start in (Monday, in the organisation's time zone). A "
           "week shows the 4-week rolling mean: its joint meetings and those of the three "
           "weeks before ÷ 4. A month or quarter shows its joint meetings ÷ its weeks. The "
           "Aberdeen Group (2011) found 1.89 a week at the best-aligned firms against 1.12 at "
           "the rest.",
           dimensions=(),
           aggregation=RATIO, team=JOINT, target_denominator=True),
    Metric("insight_answer_median_days", "Time to answer field insights (median)", "days",
           "lower", "alignment",
           "Median days from a field insight sales posted to marketing's answer (used, or why "
           "not), over the insights answered in the period.",
           dimensions=(),
           aggregation=PERCENTILE, team=MARKETING),
]  # fmt: skip

METRICS: dict[str, Metric] = {m.key: m for m in _METRICS}
DIMENSIONS = ("campaign", "channel", "owner", "reason", "segment", "goal")
FAMILY_LABELS = {
    "flow": "Flow", "cohort": "Cohort", "sla": "SLA", "marketing": "Marketing and cost",
    "evidence": "Evidence", "attribution": "Attribution", "alignment": "Alignment",
}  # fmt: skip


GOAL_EXCLUDED_METRICS = frozenset(k for k, m in METRICS.items() if not m.goal_target)


def metric(key: str) -> Metric:
    try:
        return METRICS[key]
    except KeyError:
        raise KeyError(f"Unknown metric {key!r}.") from None
