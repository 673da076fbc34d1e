"""Plain forms of the alert pages; the services validate, these only shape the input."""

from django import forms

from regions.models import Application

from .models import RULE_FIELDS, AlertRules, Event


class ChannelForm(forms.Form):
    name = forms.CharField(max_length=100)
    url = forms.CharField(
        label="URL", required=False, widget=forms.PasswordInput(render_value=False),
        help_text="An apprise URL: slack://…, msteams://…, discord://…, mailto://…, sns://…, "
                  "pagerduty://…, json://host/path. Never shown again; leave empty to keep it.")
    applications = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every application.")
    events = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, choices=Event.choices,
        help_text="None ticked: every event.")
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, creating: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["applications"].choices = [
            (slug, slug) for slug in Application.objects.values_list("slug", flat=True)]
        self.fields["url"].required = creating


class RulesForm(forms.ModelForm):
    class Meta:
        model = AlertRules
        fields = list(RULE_FIELDS)


class WindowForm(forms.Form):
    application = forms.ModelChoiceField(queryset=Application.objects.all(),
                                         to_field_name="slug")
    regions = forms.CharField(required=False, help_text="Region codes, comma-separated; "
                                                        "empty: every region.")
    starts_at = forms.DateTimeField(label="Starts (UTC)",
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(label="Ends (UTC)",
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(max_length=200)

    def data_for_service(self) -> dict:
        data = {k: self.cleaned_data[k] for k in ("starts_at", "ends_at", "reason")}
        data["regions"] = [c.strip() for c in self.cleaned_data["regions"].split(",")
                           if c.strip()]
        return data


class HistoryFilter(forms.Form):
    application = forms.CharField(required=False)
    status = forms.ChoiceField(required=False, choices=[("", "any"), ("pending", "pending"),
                                                        ("open", "open"),
                                                        ("resolved", "resolved")])
