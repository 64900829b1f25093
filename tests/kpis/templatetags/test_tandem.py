from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django import forms
from django.template import Context, Template

from kpis.forms import KpiFilterForm
from kpis.pages.common import Column, Dataset
from kpis.templatetags.tandem import data_rows, select


def _squeezed(html: str) -> str:
    return re.sub(r">\s+<", "><", str(html)).strip()


def test_a_datasets_rows_head_each_row_and_format_each_value_in_its_unit() -> None:
    ds = Dataset(
        "x",
        "X",
        (Column("Campaign"), Column("Channel"), Column("Leads", "count"), Column("Rate", "ratio")),
        [("<b>Spring</b>", "email & co", Decimal(1234), Decimal("0.5")), ("Fall", "", None, None)],
    )
    assert data_rows(ds).split("\n") == [
        '<tr><th scope="row">&lt;b&gt;Spring&lt;/b&gt;</th><td>email &amp; co</td>'
        '<td class="num">1,234</td><td class="num">50.0 %</td></tr>',
        '<tr><th scope="row">Fall</th><td>—</td><td class="num">—</td><td class="num">—</td></tr>',
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [{}, {"period": "week"}, {"channel": "bogus", "period": ""}, {"owner": "(unassigned)"}],
)
def test_a_select_is_the_one_djangos_widget_renders(query: dict) -> None:
    form = KpiFilterForm(query or None)
    form.fields["campaign"].choices = [("", "All"), ("a&b", 'Spring "<launch>"'), ("c", "C")]
    form.is_valid()
    for name in ("period", "channel", "campaign", "owner"):
        assert _squeezed(select(form[name])) == _squeezed(form[name]), name


def test_a_widget_other_than_a_select_renders_as_django_renders_it() -> None:
    class Picked(forms.Form):
        colours = forms.MultipleChoiceField(choices=[("r", "Red")], required=True)

    field = Picked()["colours"]
    assert select(field) == field.as_widget()


@pytest.mark.django_db
def test_the_select_tag_reaches_templates() -> None:
    form = KpiFilterForm({"period": "quarter"})
    form.fields["campaign"].choices = [("", "All")]
    form.fields["owner"].choices = [("", "All")]
    html = Template("{% load tandem %}{% select form.period %}").render(Context({"form": form}))
    assert '<option value="quarter" selected>Quarter</option>' in html
