from __future__ import annotations

from datetime import date, timedelta

from django import forms

from .report import MAX_DAYS, default_control, default_period

# Dates whose period arithmetic stays representable (date_to + 1 day, date_to - the default span).
EARLIEST, LATEST = date.min + timedelta(days=MAX_DAYS), date.max - timedelta(days=1)


class ReportForm(forms.Form):
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    control = forms.ChoiceField(required=False, label="Control")

    def __init__(self, *args, variant_set, **kwargs):
        super().__init__(*args, **kwargs)
        self.variant_set = variant_set
        self.fields["control"].choices = [(name, f"{name.upper()} ({v.theme})") for name, v in variant_set.variants.items()]

    def clean(self):
        data = super().clean()
        for name in ("date_from", "date_to"):
            if data.get(name) and not EARLIEST <= data[name] <= LATEST:
                raise forms.ValidationError(f"Choose dates between {EARLIEST} and {LATEST}.")
        default_from, default_to = default_period()
        date_to = data.get("date_to") or default_to
        date_from = data.get("date_from") or min(default_from, date_to)
        if date_from > date_to:
            raise forms.ValidationError("The start date is after the end date.")
        if (date_to - date_from).days >= MAX_DAYS:
            raise forms.ValidationError(f"Choose at most {MAX_DAYS} days.")
        data["date_from"], data["date_to"] = date_from, date_to
        data["control"] = data.get("control") or default_control(self.variant_set)
        return data

    def period(self) -> tuple[date, date, str]:
        """The chosen period and control, or the defaults when the form is absent or wrong."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data["date_from"], self.cleaned_data["date_to"], self.cleaned_data["control"]
        date_from, date_to = default_period()
        return date_from, date_to, default_control(self.variant_set)
