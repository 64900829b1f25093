"""The metric catalog (SPEC §4): one registry that the engine, the API and the pages read."""

from __future__ import annotations

from dataclasses import dataclass

FUNNEL_DIMS = ("campaign", "channel", "owner", "segment")
COST_DIMS = ("campaign", "channel")


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str  # count | currency | ratio | hours | days
    direction: str  # higher | lower (is better)
    family: str  # flow | cohort | sla | marketing | attribution | alignment
    definition: str
    dimensions: tuple[str, ...] = FUNNEL_DIMS
    by_model: bool = False
    is_ratio: bool = False

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher"


_METRICS = [
    # --- flow counts: event time in the period ---
    Metric("leads_created", "Leads created", "count", "higher", "flow",
           "Leads whose creation time falls in the period."),
    Metric("mqls", "MQLs", "count", "higher", "flow",
           "Handoffs to sales (marketing-qualified leads) made in the period."),
    Metric("sals", "SALs", "count", "higher", "flow",
           "Handoffs sales accepted, counted when the decision was made."),
    Metric("rejections", "Rejections", "count", "lower", "flow",
           "Handoffs sales rejected, counted when the decision was made; broken down by reason.",
           dimensions=(*FUNNEL_DIMS, "reason")),
    Metric("sqls", "SQLs", "count", "higher", "flow",
           "Leads reaching the sales-qualified stage in the period (each `sql` stage event)."),
    Metric("opportunities", "Opportunities", "count", "higher", "flow",
           "Deals created in the period."),
    Metric("deals_won", "Deals won", "count", "higher", "flow", "Deals won, by close date."),
    Metric("deals_lost", "Deals lost", "count", "lower", "flow", "Deals lost, by close date."),
    Metric("revenue_won", "Revenue won", "currency", "higher", "flow",
           "Sum of the amounts of deals won, by close date."),
    Metric("avg_deal_size", "Average deal size", "currency", "higher", "flow",
           "Revenue won ÷ deals won.", is_ratio=True),
    Metric("win_rate", "Win rate", "ratio", "higher", "flow",
           "Deals won ÷ (deals won + deals lost), by close date.", is_ratio=True),
    Metric("pipeline_open", "Open pipeline", "currency", "higher", "flow",
           "Sum of the amounts of deals still open at the end of the period."),
    Metric("sales_cycle_median_days", "Sales cycle (median)", "days", "lower", "flow",
           "Median days from lead creation to close, over deals won in the period."),
    # --- cohort rates: handoffs made in the period, followed to their outcome today ---
    Metric("handoffs_pending", "Handoffs pending", "count", "lower", "cohort",
           "Handoffs made in the period that sales has not yet accepted or rejected."),
    Metric("acceptance_rate", "Acceptance rate", "ratio", "higher", "cohort",
           "Of the handoffs made in the period and decided: accepted ÷ (accepted + rejected).",
           is_ratio=True),
    Metric("sql_rate", "SQL rate", "ratio", "higher", "cohort",
           "Of the accepted handoffs made in the period: the share whose lead reached SQL "
           "after the handoff.", is_ratio=True),
    Metric("mql_to_won_rate", "MQL → won", "ratio", "higher", "cohort",
           "Of the handoffs made in the period: the share whose lead has a won deal.",
           is_ratio=True),
    Metric("speed_to_lead_median_hours", "Speed to lead (median)", "hours", "lower", "sla",
           "Median hours from handoff to the first contact attempt at or after it, over the "
           "period's contacted handoffs (business hours when the SLA sets them)."),
    Metric("speed_to_lead_p90_hours", "Speed to lead (90th percentile)", "hours", "lower", "sla",
           "90th percentile of the hours from handoff to first contact attempt."),
    Metric("sla_first_contact_rate", "First contact within SLA", "ratio", "higher", "sla",
           "A handoff is responded at the earlier of its first attempt and its decision; met "
           "if responded within X hours of the handoff. Handoffs not yet responded whose "
           "deadline is still ahead are left out.", is_ratio=True),
    Metric("sla_cadence_rate", "Follow-up cadence within SLA", "ratio", "higher", "sla",
           "Over handoffs whose cadence window (X hours + (Y−1)·Z days) has passed and that "
           "were not closed out inside it (rejected, reached SQL, or an attempt connected or "
           "booked a meeting): the share with at least Y attempts inside the window.",
           is_ratio=True),
    # --- marketing side and cost ---
    Metric("marketing_sla_attainment", "Marketing SAL commitment", "ratio", "higher",
           "marketing",
           "SALs in the period ÷ the SLA's monthly SAL commitment N (a quarter commits 3·N, "
           "a week 12·N/52).", dimensions=(), is_ratio=True),
    Metric("campaign_cost", "Campaign cost", "currency", "lower", "marketing",
           "Campaign cost spread evenly over its days (start to end), summed per period.",
           dimensions=COST_DIMS),
    Metric("cost_per_lead", "Cost per lead", "currency", "lower", "marketing",
           "Campaign cost ÷ leads created.", dimensions=COST_DIMS, is_ratio=True),
    Metric("cost_per_sql", "Cost per SQL", "currency", "lower", "marketing",
           "Campaign cost ÷ SQLs.", dimensions=COST_DIMS, is_ratio=True),
    Metric("cost_per_customer", "Cost per customer", "currency", "lower", "marketing",
           "Campaign cost ÷ deals won.", dimensions=COST_DIMS, is_ratio=True),
    Metric("attributed_revenue", "Attributed revenue", "currency", "higher", "attribution",
           "Won revenue credited to campaigns by an attribution model, by deal close date.",
           dimensions=("campaign", "channel"), by_model=True),
    Metric("campaign_roi", "Campaign ROI", "ratio", "higher", "attribution",
           "(Attributed revenue − cost) ÷ cost, per campaign and attribution model.",
           dimensions=("campaign", "channel"), by_model=True, is_ratio=True),
    # --- alignment (computed from goals, forecasts and meetings) ---
    Metric("goal_attainment", "Goal attainment", "ratio", "higher", "alignment",
           "Per shared goal: actual ÷ target (target ÷ actual for lower-is-better goals; a "
           "lower-is-better actual of zero attains the payout cap).",
           dimensions=("goal",), is_ratio=True),
    Metric("scorecard_attainment", "Scorecard attainment", "ratio", "higher", "alignment",
           "Weighted mean of the period's goal attainments, each capped at the payout cap "
           "(goals without a value yet are left out).",
           dimensions=(), is_ratio=True),
    Metric("forecast_accuracy", "Forecast accuracy", "ratio", "higher", "alignment",
           "1 − |actual − forecast| ÷ actual, for a revenue forecast entered before the period.",
           dimensions=(), is_ratio=True),
    Metric("joint_meetings_per_week", "Joint meetings per week", "count", "higher", "alignment",
           "Meetings attended by both teams per week, 4-week rolling average (Aberdeen 2011: "
           "1.89 at high performers vs 1.12). Not computed until meetings are recorded.",
           dimensions=(), is_ratio=True),
]  # fmt: skip

METRICS: dict[str, Metric] = {m.key: m for m in _METRICS}
DIMENSIONS = ("campaign", "channel", "owner", "reason", "segment", "goal")


def metric(key: str) -> Metric:
    try:
        return METRICS[key]
    except KeyError:
        raise KeyError(f"Unknown metric {key!r}.") from None
