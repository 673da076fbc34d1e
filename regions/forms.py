from django import forms
from django.contrib.auth import get_user_model

from . import validators
from .models import APPLICATION_FIELDS, Application, AuditEntry, AuditSource


class ApplicationForm(forms.ModelForm):
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


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=150)
    application = forms.CharField(required=False, max_length=50)
    action = forms.ChoiceField(required=False)
    source = forms.ChoiceField(required=False, choices=[("", "Any")] + list(AuditSource.choices))
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        actions = AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct()
        self.fields["action"].choices = [("", "Any")] + [(a, a) for a in actions]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("The start date is after the end date.")
        return data

    def filter(self, queryset):
        data = self.cleaned_data
        if data.get("actor"):
            queryset = queryset.filter(actor_name__icontains=data["actor"])
        if data.get("application"):
            queryset = queryset.filter(application_slug=data["application"])
        if data.get("action"):
            queryset = queryset.filter(action=data["action"])
        if data.get("source"):
            queryset = queryset.filter(source=data["source"])
        if data.get("since"):
            queryset = queryset.filter(created_at__date__gte=data["since"])
        if data.get("until"):
            queryset = queryset.filter(created_at__date__lte=data["until"])
        return queryset


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. ci-pipeline.")


User = get_user_model()
