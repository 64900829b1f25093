"""Formatting for the pages: KPI values by unit, changes, time left, sparklines, charts."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django import forms, template
from django.forms import BoundField
from django.http import HttpRequest, QueryDict
from django.template import Context
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from alignment import scoring
from alignment.pages import day_text
from kpis.charts import figure_json
from kpis.pages.common import MINUS, Dataset, ago_words, duration_words, format_value
from kpis.render_cache import ago_marker
from leads.models import Handoff
from leads.selectors import LeadStep, MqlWhy, handoff_sla_step

register = template.Library()


@register.filter
def kpi(value: Decimal | float | int | None, unit: str = "count") -> str:
    """A value in its unit: 1,234 · 48.2k · 42.1 % · 3.5 h · 41 d; — when there is none."""
    return format_value(value, unit)


@register.filter
def whole(value: Decimal | float | None) -> str:
    return "0" if value is None else f"{float(value):,.0f}"


@register.filter
def change(value: Decimal | None, unit: str) -> str:
    """+12.3 % / −3.1 pts; empty without a change."""
    if value is None:
        return ""
    sign = "+" if value > 0 else MINUS if value < 0 else "±"
    return f"{sign}{abs(float(value)):.1f} {unit}"


@register.filter
def sparkline(values: tuple[float | None, ...], team: str = "joint") -> SafeString:
    """A small inline SVG line of a metric's periods (gaps where there is no value)."""
    points = [v for v in values if v is not None]
    if len(points) < 2:
        return mark_safe("")
    width, height, pad = 120, 32, 3
    low, high = min(points), max(points)
    span = (high - low) or 1
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    segments, current = [], []
    for i, v in enumerate(values):
        if v is None:
            if current:
                segments.append(current)
            current = []
            continue
        y = height - pad - (v - low) / span * (height - 2 * pad)
        current.append(f"{pad + i * step:.1f},{y:.1f}")
    if current:
        segments.append(current)
    lines = "".join(f'<polyline points="{" ".join(s)}"/>' for s in segments)
    last = segments[-1][-1].split(",")
    return format_html(
        '<svg class="spark spark-{}" viewBox="0 0 {} {}" aria-hidden="true" focusable="false">'
        '{}<circle cx="{}" cy="{}" r="2.5"/></svg>',
        team,
        width,
        height,
        mark_safe(lines),  # only numbers, formatted above
        last[0],
        last[1],
    )


@register.filter
def ago(moment: datetime | None) -> str:
    """'40 s ago', '3 min ago', '2 h ago', '3 d ago'."""
    return ago_words(moment)


@register.simple_tag(takes_context=True)
def ago_live(context: dict, moment: datetime | None) -> str:
    """`ago` that stays right in a cached fragment (`kpis.render_cache.fill`)."""
    if context.get("fragment") and moment is not None:
        return ago_marker(moment)
    return ago_words(moment)


_STEP_WORDS = {
    "none": "No SLA deadline",
    "kept": "Cadence kept",
    "first_contact": "First contact",
    "next_attempt": "Next attempt",
}


@register.simple_tag
def due(handoff: Handoff, now: datetime | None = None) -> dict[str, str]:
    """The SLA step a pending handoff waits for (leads.selectors.handoff_sla_step), in words:
    'First contact due in 3 h', 'Next attempt overdue by 2 d', 'Cadence kept'."""
    step = handoff_sla_step(handoff=handoff, now=now or timezone.now())
    words = _STEP_WORDS[step.kind]
    if step.left is None:
        label = words
    elif step.overdue:
        label = f"{words} overdue by {duration_words(step.left)}"
    else:
        label = f"{words} due in {duration_words(step.left)}"
    return {"state": step.state, "label": label}


@register.filter
def rule_words(item: object) -> str:
    """A matched scoring rule in words: 'Segment is enterprise: +30' (alignment.scoring)."""
    return scoring.rule_words(item) if isinstance(item, dict) else str(item)


@register.simple_tag
def lead_step(handoff: Handoff) -> dict[str, str]:
    """An accepted lead's next step (`leads.selectors.my_leads_steps`) in words: 'Attempt 3
    of 6 due in 1 d', 'First contact overdue by 2 h', 'Cadence done: reached'; and its cadence
    window: 'Met', 'Missed', 'Open until Mon 3 Mar, 17:00'."""
    step: LeadStep = handoff.step
    if step.kind == "first_contact":
        words = "First contact"
    elif step.kind == "next_attempt":
        words = f"Attempt {step.attempts + 1} of {step.attempts_due}"
    elif step.kind == "working":
        words = "Cadence done: " + (
            "reached" if handoff.reached else f"{step.attempts} of {step.attempts_due} attempts"
        )
    elif step.kind == "lapsed":
        words = (
            f"Cadence window closed at {step.attempts} of {step.attempts_due} attempts: "
            "follow up or close the lead"
        )
    elif step.kind == "closed":
        words = "Nothing due"
    else:
        words = "No SLA for this handoff"
    if step.left is not None:
        left = duration_words(step.left)
        words += f" overdue by {left}" if step.left < timedelta(0) else f" due in {left}"
    cadence = {"met": "Met", "missed": "Missed", "": "—"}.get(step.cadence)
    if cadence is None:  # open
        cadence = f"Open until {_when(step.window_ends)}" if step.window_ends else "Open"
    return {
        "state": step.state,
        "label": words,
        "due": _when(step.due) if step.due else "",
        "cadence": cadence,
    }


# --- the inbox's cards --------------------------------------------------------------------


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


def _names() -> tuple[list[str], list[str]]:
    """The month and weekday abbreviations of the active language ('Dec', 'Mon'), once per
    language: translating them is most of what formatting a date costs."""
    language = translation.get_language()
    names = _NAMES.get(language)
    if names is None:
        months = [""] + [str(MONTHS_3[m]).title() for m in range(1, 13)]
        names = _NAMES[language] = (months, [str(WEEKDAYS_ABBR[d]) for d in range(7)])
    return names


_NAMES: dict[str | None, tuple[list[str], list[str]]] = {}


def _day_month(moment: datetime) -> str:
    """'1 Dec' (the `date` filter's "j M")."""
    return f"{moment.day} {_names()[0][moment.month]}"


def _when(moment: datetime) -> str:
    """'Mon 1 Dec, 09:05' (the `date` filter's "D j M, H:i"), in the current time zone."""
    local = _local(moment)
    return f"{_names()[1][local.weekday()]} {_day_month(local)}, {local:%H:%M}"


def _s(n: int, plural: str = "s") -> str:
    return "" if n == 1 else plural


def _why(h: Handoff) -> str:
    """Why the handoff's lead is an MQL (`leads.selectors.handoffs_why`), in words: the score,
    the threshold and each matched rule under the version that qualified it; or who marked it
    MQL, and its score now against the definition in effect."""
    why = getattr(h, "why", None)
    if why is None:  # not read for this handoff: what it keeps itself
        rules = tuple(r for r in h.matched_rules or () if isinstance(r, dict))
        why = MqlWhy(rules=rules, score=sum(int(r.get("points") or 0) for r in rules))
    e = conditional_escape
    if why.scored:
        head = [f"<strong>Score {why.score}</strong>"]
        if why.threshold is not None:
            head.append(f"threshold {why.threshold}")
        if why.version is not None:
            head.append(f"lead definition v{why.version}")
        items = "".join(f"<li>{e(scoring.rule_words(r))}</li>" for r in why.rules)
        return (
            f'    <p class="why-score">{" · ".join(head)}</p>\n'
            f'    <ul class="why-rules" aria-label="Scoring rules it matched">{items}</ul>\n'
        )
    by = f" by {e(why.marked_by)}" if why.marked_by else ""
    when = f" on {day_text(why.marked_at)}" if why.marked_at else ""
    out = f'    <p class="why-score">Marked MQL{by}{when}.</p>\n'
    if why.current_version is not None:
        if why.current_score is None:
            now = f"Not scored yet under lead definition v{why.current_version}"
        else:
            now = f"Score now {why.current_score} of threshold {why.current_threshold}"
            now += f" (lead definition v{why.current_version})"
            if why.current_threshold is not None and why.current_score < why.current_threshold:
                now += ": below it"
        out += f'    <p class="why-now muted">{now}.</p>\n'
    return out


@register.simple_tag
def mql_why(h: Handoff) -> SafeString:
    """Why a handoff's lead is an MQL, as its inbox card says it (for the lead page)."""
    return mark_safe(_why(h))  # every value escaped in _why


@register.simple_tag(takes_context=True)
def handoff_card(context: Context, h: Handoff, flash: str = "") -> SafeString:
    """A pending handoff's card in the inbox: who the lead is, why it is an MQL, the SLA step
    it waits for, its attempts, and its forms (`leads/partials/handoff_actions.html`: the
    inbox renders them once for every card, `handoff.actions_html`).

    Written in Python rather than a template: the inbox shows 50 cards, and the template
    engine's lookups and filters in them cost more than the rest of the page together. It
    reads only what `leads.selectors.inbox_handoffs` and `inbox_history` load.
    """
    now = context.get("now") or timezone.now()
    user = context.get("user")
    lead = h.lead
    step = due(h, now)
    e = conditional_escape
    pk = h.pk
    out = [
        f'<article class="card handoff due-{e(step["state"])}" id="handoff-{pk}" '
        f'aria-labelledby="handoff-{pk}-name">\n'
    ]
    if flash:
        out.append(f'  <p class="flash" role="status">✓ {e(flash)}</p>\n')
    meta = []
    if lead.company:
        meta.append(f"{e(lead.company)} · ")
    if lead.email:
        meta.append(f'<a href="mailto:{e(lead.email)}">{e(lead.email)}</a> · ')
    meta.append(f"handed {e(ago_words(h.handed_at))}")
    if h.owner_id is None:
        meta.append(" · unassigned")
    elif getattr(user, "pk", None) != h.owner_id:
        owner = h.owner
        meta.append(f" · <strong>{e(owner.get_full_name() or owner.username)}</strong>")
    title = []
    if h.first_contact_due_at:
        title.append(f"First contact due {_when(h.first_contact_due_at)}")
        if h.first_attempt_at:
            title.append(f", made {_when(h.first_attempt_at)}")
    if h.next_attempt_due_at:
        title.append(f" · next attempt due {_when(h.next_attempt_due_at)}")
    # Opened again by the two heads' overturn of a rejection (inbox_handoffs' annotation).
    reopened = (
        ' <span class="tag tag-reopened" data-reopened>Reopened after a dispute</span>'
        if getattr(h, "reopened", False)
        else ""
    )
    out.append(
        '  <header class="handoff-head">\n    <div>\n'
        f'      <h2 class="handoff-name" id="handoff-{pk}-name">'
        f'<a href="{reverse("lead-detail", args=[h.lead_id])}">'
        f"{e(lead.name or lead.email or lead.external_id)}</a></h2>\n"
        f'      <p class="handoff-meta">{"".join(meta)}{reopened}</p>\n    </div>\n'
        f'    <span class="due" title="{e("".join(title))}">{e(step["label"])}</span>\n'
        "  </header>\n\n"
        '  <div class="why">\n    <h3>Why it is an MQL</h3>\n'
    )
    out.append(_why(h))
    touches = lead.latest_touches
    if touches:
        items = []
        for t in touches[:4]:
            local = _local(t.occurred_at)
            kind = f' <span class="kind">· {e(t.kind)}</span>' if t.kind else ""
            items.append(
                f'<li><time class="when" datetime="{local.isoformat()}">{_day_month(local)}'
                f'</time><span class="what">{e(t.campaign_name)}{kind}</span></li>'
            )
        if len(touches) > 4:
            more = len(touches) - 4
            items.append(f'<li class="faint">and {more} earlier touch{_s(more, "es")}</li>')
        out.append(
            '    <ol class="touches" aria-label="Marketing touches, latest first">\n'
            f"      {''.join(items)}\n    </ol>\n"
        )
    else:
        source = f"From {e(lead.campaign.name)}. " if lead.campaign_id else ""
        out.append(f'    <p class="muted" style="margin:0">{source}No touches recorded.</p>\n')
    out.append("  </div>\n\n")
    attempts = lead.latest_attempts
    if attempts:
        last = attempts[0]
        line = (
            f"{len(attempts)} attempt{_s(len(attempts))} · last: "
            f"{e(last.channel_label)}, {e(last.outcome_label.lower())}, "
            f"{e(ago_words(last.occurred_at))}"
        )
    else:
        line = "No contact attempt yet"
    out.append(f'  <p class="attempts">{line}</p>\n\n')
    actions = getattr(h, "actions_html", None)
    if actions is None:
        with context.push(h=h):
            actions = context.template.engine.get_template(
                "leads/partials/handoff_actions.html"
            ).render(context)
    out.append(f"  {actions}</article>")
    return mark_safe("".join(out))  # every value escaped above


@register.simple_tag(takes_context=True)
def query(context: dict, **changes: object) -> str:
    """The current query string with some parameters changed (empty ones dropped)."""
    request: HttpRequest = context["request"]
    params: QueryDict = request.GET.copy()
    for name, value in changes.items():
        if value in (None, ""):
            params.pop(name, None)
        else:
            params[name] = str(value)
    for name in [k for k, v in params.items() if v == ""]:
        params.pop(name)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.inclusion_tag("kpis/partials/chart.html", takes_context=True)
def chart(context: dict, ds: Dataset, route: str, *args: object) -> dict:
    """A chart: its Plotly figure, a text summary, its data table and a CSV link."""
    request: HttpRequest = context["request"]
    encoded = request.GET.urlencode()
    csv_url = reverse(route, args=[*args, ds.slug]) + (f"?{encoded}" if encoded else "")
    return {"ds": ds, "figure": figure_json(ds), "csv_url": csv_url}


@register.simple_tag
def data_rows(ds: Dataset) -> SafeString:
    """The body rows of a dataset's table: the first cell heads its row, the others are its
    columns' values in their units. Python rather than a template loop: a page shows hundreds
    of such cells, and the template engine costs a few microseconds for each lookup in them."""
    numeric = [c.unit != "text" for c in ds.columns]
    lines = []
    for row in ds.rows:
        cells = [f'<th scope="row">{conditional_escape(row[0])}</th>'] if row else []
        for i in range(1, min(len(row), len(ds.columns))):
            value = conditional_escape(format_value(row[i], ds.columns[i].unit))
            cells.append(f'<td class="num">{value}</td>' if numeric[i] else f"<td>{value}</td>")
        lines.append(f"<tr>{''.join(cells)}</tr>")
    return mark_safe("\n".join(lines))  # every value escaped above


def _attrs(attrs: dict) -> str:
    """HTML attributes as Django's widgets write them: True bare, False left out."""
    return "".join(
        f" {name}" if value is True else f' {name}="{conditional_escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


@register.simple_tag
def select(field: BoundField) -> SafeString:
    """A choice field's select box: Django's own attributes, options and selection
    (`Select.get_context`), written out in Python. A page's filters offer dozens of options,
    and Django's widget templates include a template for each one."""
    widget = field.field.widget
    if type(widget) is not forms.Select:
        return field.as_widget()
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    context = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    parts = [f'<select name="{conditional_escape(context["name"])}"{_attrs(context["attrs"])}>']
    for group, options, _ in context["optgroups"]:
        if group:
            parts.append(f'\n  <optgroup label="{conditional_escape(group)}">')
        for option in options:
            value, label = (
                conditional_escape(str(option["value"])),
                conditional_escape(option["label"]),
            )
            parts.append(f'\n  <option value="{value}"{_attrs(option["attrs"])}>{label}</option>')
        if group:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return mark_safe("".join(parts))  # every value escaped above
