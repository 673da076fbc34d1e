from collections.abc import Callable

from django import forms
from django.conf import settings

from . import validators
from .models import APPLICATION_FIELDS, Application

# Functions that suggest values for a new application; other apps register theirs (the
# sandbox fills in its own hosted zone) so the inventory never imports them.
DEFAULT_PROVIDERS: list[Callable[[], dict]] = []


def new_application_defaults() -> dict | None:
    initial: dict = {}
    for provider in DEFAULT_PROVIDERS:
        initial.update(provider())
    return initial or None


class AlarmsField(forms.CharField):
    """CloudWatch alarms, one per line in the form, a list in the model."""

    widget = forms.Textarea(attrs={"rows": 3, "placeholder": "HighErrorRate\n"
                                   "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:Latency"})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        return [line.strip() for line in str(value or "").splitlines() if line.strip()]


class SecondsField(forms.IntegerField):
    """Seconds, none meaning 0."""

    def clean(self, value):
        cleaned = super().clean(value)
        return 0 if cleaned is None else cleaned


class DeployGateFields(forms.ModelForm):
    """The deploy gates and the traffic guard of an application, as the web form and the admin
    show them: left empty, each keeps its default."""

    min_serving = forms.IntegerField(
        required=False, min_value=1, max_value=50, label="Minimum serving regions",
        help_text=Application._meta.get_field("min_serving").help_text)

    def clean_min_serving(self):
        value = self.cleaned_data.get("min_serving")
        return 1 if value is None else value

    bake_seconds = SecondsField(
        required=False, min_value=0, max_value=86400, label="Bake time (seconds)",
        help_text=Application._meta.get_field("bake_seconds").help_text)
    alarms = AlarmsField(required=False, label="CloudWatch alarms",
                         help_text=Application._meta.get_field("alarms").help_text)


class ApplicationForm(DeployGateFields):
    class Meta:
        model = Application
        fields = list(APPLICATION_FIELDS)
        widgets = {
            "command": forms.TextInput(attrs={"placeholder": "npx ts-node bin/app.ts"}),
            "workdir": forms.TextInput(attrs={"placeholder": "/srv/apps/orders-cdk"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["main_region"] = forms.ChoiceField(
            choices=[("", "Choose a region")] + validators.region_choices(),
            help_text=self.fields["main_region"].help_text,
        )
        self.fields["control_region"] = forms.ChoiceField(
            required=False, label="Control region",
            choices=[("", f"Default ({settings.CONTROL_REGION})")] + validators.region_choices(),
            help_text=self.fields["control_region"].help_text,
        )
        if self.instance.pk:
            # The slug names stacks; it never changes after creation.
            self.fields["slug"].disabled = True

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data if name != "slug"}


class RegionAddForm(forms.Form):
    code = forms.CharField(
        label="Region code",
        max_length=32,
        help_text="An AWS region such as eu-west-1.",
        widget=forms.TextInput(attrs={"list": "region-codes", "autocomplete": "off"}),
    )
    check_enabled = forms.BooleanField(
        required=False,
        label="Check that the region is enabled for the account (needs AWS credentials)",
    )

    def __init__(self, *args, application=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.application = application

    def clean_code(self):
        code = self.cleaned_data["code"]
        validators.validate_region_code(code)
        if self.application is not None and self.application.regions.filter(code=code).exclude(
            state="removed"
        ).exists():
            raise forms.ValidationError(f"{code} is already in the inventory of this application.")
        return code
