"""The demo company: a deterministic generator of two teams' year of funnel (`seed_demo`) and
the demo logins. It sits above every app and writes through their services; no app imports
it."""
