from datetime import date

from django import forms

from .audit import audit_entries, day_start
from .models import AuditEntry, AuditSource


class AuditFilterForm(forms.Form):
    actor = forms.ChoiceField(required=False)
    application = forms.CharField(required=False, max_length=50)
    action = forms.ChoiceField(required=False)
    source = forms.ChoiceField(required=False, choices=[("", "Any")] + list(AuditSource.choices))
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("actor", "action"):
            column = "actor_name" if name == "actor" else name
            values = AuditEntry.objects.order_by(column).values_list(column, flat=True).distinct()
            self.fields[name].choices = [("", "Any")] + [(v, v) for v in values]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("The start date is after the end date.")
        if data.get("until") == date.max:
            self.add_error("until", "Enter a date before the last day of the calendar.")
        return data

    def entries(self):
        """The entries the filter selects (all of them when it is empty or invalid)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return audit_entries(
            actor=data.get("actor", ""), application=data.get("application", ""),
            action=data.get("action", ""), source=data.get("source", ""),
            since=day_start(data["since"]) if data.get("since") else None,
            until=day_start(data["until"], next_day=True) if data.get("until") else None,
        )


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. ci-pipeline.")
