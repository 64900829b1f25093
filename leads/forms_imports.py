"""Small forms of CSV imports: the upload (file, kind, preset) and a file's column mapping."""

from __future__ import annotations

from collections.abc import Sequence

from django import forms
from django.conf import settings

from leads.imports.rows import ImportField
from leads.models import DateOrder, ImportKind


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        error_messages={"required": "Choose a CSV file to import.", "empty": "The file is empty."},
    )
    preset = forms.ChoiceField(
        label="Preset",
        required=False,
        help_text="A CRM's export maps itself; any other file you map column by column.",
    )
    kind = forms.ChoiceField(
        label="The rows are",
        choices=ImportKind.choices,
        initial=ImportKind.LEADS,
        required=False,
        help_text="For a file without a preset: a preset knows what its rows are.",
    )

    def __init__(self, *args: object, presets: Sequence[tuple[str, str]], **kwargs: object) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["preset"].choices = [
            ("", "Recognise it from the file's columns, or map them myself"),
            *presets,
        ]

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1e6:,.1f} MB; an import takes at most "
                f"{settings.IMPORT_MAX_BYTES / 1e6:,.0f} MB. Split it in parts."
            )
        return upload


class ImportMappingForm(forms.Form):
    """One select per field of the kind (a column of the file, or none), the date order when
    the file's dates read either way, and an optional name to keep the mapping under."""

    date_order = forms.ChoiceField(
        label="Dates in this file are",
        choices=DateOrder.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    save_as = forms.CharField(
        label="Save this mapping as a preset named",
        max_length=80,
        required=False,
        help_text="Optional: the next file of the same shape maps itself.",
    )

    def __init__(
        self,
        *args: object,
        fields: Sequence[ImportField],
        columns: Sequence[str],
        mapping: dict[str, str],
        builtin: bool,
        date_order: str,
        dates_ambiguous: bool,
        **kwargs: object,
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.mapped: list[str] = []
        choices = [("", "— not in this file —"), *((c, c) for c in columns)]
        for field in fields:
            key = f"map_{field.name}"
            self.fields[key] = forms.ChoiceField(
                label=f"{field.label}{' (required)' if field.required else ''}",
                choices=choices,
                required=field.required,
                initial=mapping.get(field.name, ""),
                help_text=(
                    f"The export calls it “{field.column}”."
                    if builtin and field.column
                    else field.help
                ),
                error_messages={"required": f"Choose the column that holds {field.label.lower()}."},
            )
            self.mapped.append(key)
        self.fields["date_order"].initial = date_order
        self.fields["date_order"].required = dates_ambiguous
        self.fields["date_order"].error_messages["required"] = (
            "The file's dates read either way (03/04 is 3 April or 4 March): say which."
        )

    def mapping(self) -> dict[str, str]:
        return {
            key.removeprefix("map_"): self.cleaned_data[key]
            for key in self.mapped
            if self.cleaned_data.get(key)
        }
