"""Writes of the alignment app, one module per entity (HackSoft-style services).

- `accounts`: API tokens, roles, team heads;
- `versions`: what the dual-signed SLA and lead definition share (drafts, approvals);
- `sla`, `lead_definitions`: their own terms and rules;
- `round_robin`: the rotation of sales reps that owns automatic handoffs;
- `goals`, `forecasts`, `payout_curves`: the joint scorecard's inputs.

Applying an agreement to the funnel (SLA facts, re-scoring, breach alerts) is `leads`' work.
"""
