"""HTML input validation only; the services hold the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.domain.lifecycle import State
from incidents.domain.severity import Dimension, ImpactAnswers, Severity, reach_score_from_counts
from incidents.labels import DIMENSION_LABELS, RUBRIC, SEVERITY_LABELS, STATE_LABELS
from incidents.models import (
    Category,
    IncidentRole,
    IncidentTask,
    Market,
    RegulatoryReport,
    Review,
    StatusUpdate,
    Surface,
)
from tscc.forms import DateTimeLocal, operations_people
from tscc.models import Team

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


responders = operations_people


class UserChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj} ({obj.get_role_display()})"


class RubricMixin(forms.Form):
    """The five impact questions, answered 0-4."""

    def add_rubric_fields(self) -> None:
        for dimension in Dimension:
            self.fields[dimension.value] = forms.TypedChoiceField(
                label=DIMENSION_LABELS[dimension],
                choices=[(i, text) for i, text in enumerate(RUBRIC[dimension])],
                coerce=int,
                initial=0,
                widget=forms.RadioSelect,
            )
        self.fields["views"] = forms.IntegerField(
            label=_("Views so far"), min_value=0, required=False
        )
        self.fields["reposts"] = forms.IntegerField(
            label=_("Reposts so far"), min_value=0, required=False
        )

    def answers(self) -> ImpactAnswers:
        data = self.cleaned_data
        reach = max(
            data.get("reach") or 0,
            reach_score_from_counts(views=data.get("views"), reposts=data.get("reposts")),
        )
        return ImpactAnswers(
            user_harm=data.get("user_harm") or 0,
            reach=reach,
            legal=data.get("legal") or 0,
            press=data.get("press") or 0,
            operations=data.get("operations") or 0,
        )

    def rubric_rows(self):
        return [(DIMENSION_LABELS[d], self[d.value]) for d in Dimension]


class ScopeFields(forms.Form):
    """What the declare and edit forms share: when the harm began, where, what."""

    harm_started_at = forms.DateTimeField(
        label=_("Harm began"), required=False, widget=DateTimeLocal
    )
    markets = forms.ModelMultipleChoiceField(
        label=_("Markets"),
        queryset=Market.objects.filter(active=True),
        to_field_name="code",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    surfaces = forms.ModelMultipleChoiceField(
        label=_("Affected surfaces"),
        queryset=Surface.objects.filter(active=True),
        to_field_name="code",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    is_cii = forms.BooleanField(
        label=_("Critical information infrastructure involved"), required=False
    )
    involves_personal_info = forms.BooleanField(
        label=_("Personal information involved"), required=False
    )
    involves_minors = forms.BooleanField(label=_("Minors involved"), required=False)
    war_room_url = forms.URLField(
        label=_("External war room link"), required=False, assume_scheme="https"
    )


SEVERITY_CHOICES = [("", _("Use the rubric's proposal"))] + [
    (s.value, SEVERITY_LABELS[s]) for s in Severity
]


class DeclareForm(ScopeFields, RubricMixin):
    title = forms.CharField(label=_("What is happening?"), max_length=200)
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.filter(active=True),
        to_field_name="code",
        empty_label=_("Choose a category"),
    )
    commander = UserChoice(
        label=_("Commander"), queryset=responders(), required=False, empty_label=_("Nobody yet")
    )
    severity = forms.ChoiceField(label=_("Severity"), choices=SEVERITY_CHOICES, required=False)
    severity_reason = forms.CharField(
        label=_("Why a different severity?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    summary = forms.CharField(
        label=_("Summary"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    title_zh = forms.CharField(label=_("Title in Chinese"), max_length=200, required=False)
    discovered_at = forms.DateTimeField(
        label=_("Discovered (发现或获知)"),
        required=False,
        widget=DateTimeLocal,
        help_text=_("Statutory clocks start here. Empty: now."),
    )
    team = forms.ModelChoiceField(
        label=_("Owning team"), queryset=Team.objects.all(), required=False, to_field_name="slug"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_rubric_fields()
        self.fields["commander"].queryset = responders()


class SeverityForm(RubricMixin):
    severity = forms.ChoiceField(label=_("Severity"), choices=SEVERITY_CHOICES, required=False)
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_rubric_fields()


class TransitionForm(forms.Form):
    target = forms.ChoiceField(choices=[(s.value, STATE_LABELS[s]) for s in State])
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000)


class RoleForm(forms.Form):
    role = forms.ChoiceField(
        label=_("Role"), choices=[c for c in IncidentRole.choices if c[0] != IncidentRole.COMMANDER]
    )
    user = UserChoice(label=_("Person"), queryset=responders())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = responders()


class HandoverForm(forms.Form):
    to_user = UserChoice(label=_("New commander"), queryset=responders())
    note = forms.CharField(
        label=_("Handover note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = responders()


class NoteForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("note", _("Note")), ("decision", _("Decision"))], initial="note"
    )
    text = forms.CharField(
        label=_("Text"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 2})
    )
    policy = forms.CharField(label=_("Policy cited"), required=False, max_length=300)
    reason = forms.CharField(label=_("Why"), required=False, max_length=2000)
    pin = forms.BooleanField(label=_("Pin as key fact"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("kind") == "decision" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("A decision needs its reason."))
        return data


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=300)
    owner = UserChoice(
        label=_("Owner"), queryset=responders(), required=False, empty_label=_("Unassigned")
    )
    due_at = forms.DateTimeField(label=_("Due"), required=False, widget=DateTimeLocal)
    follow_up = forms.BooleanField(label=_("Follow-up after the incident"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = responders()


class TaskStateForm(forms.Form):
    state = forms.ChoiceField(choices=IncidentTask.State.choices)


class TaskClaimForm(forms.Form):
    take_over = forms.BooleanField(required=False)


class StatusUpdateForm(forms.Form):
    audience = forms.ChoiceField(
        label=_("Audience"),
        choices=StatusUpdate.Audience.choices,
        initial=StatusUpdate.Audience.COMPANY,
    )
    text_en = forms.CharField(
        label=_("English"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    text_zh = forms.CharField(
        label=_("Chinese"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class GradeForm(forms.Form):
    in_scope = forms.BooleanField(
        label=_("This is a cybersecurity incident under the Measures"), required=False
    )
    rationale = forms.CharField(
        label=_("Rationale"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, criteria=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        for criterion in self.criteria:
            self.fields[f"met_{criterion.id}"] = forms.BooleanField(
                required=False, label=criterion.text
            )
            self.fields[f"evidence_{criterion.id}"] = forms.CharField(
                required=False, max_length=2000, label=_("Evidence")
            )

    def clean(self):
        data = super().clean()
        for criterion in self.criteria:
            if (
                data.get(f"met_{criterion.id}")
                and not (data.get(f"evidence_{criterion.id}") or "").strip()
            ):
                self.add_error(
                    f"evidence_{criterion.id}", _("Give the evidence for this criterion.")
                )
        return data

    def met(self) -> dict[int, str]:
        return {
            c.id: self.cleaned_data[f"evidence_{c.id}"]
            for c in self.criteria
            if self.cleaned_data.get(f"met_{c.id}")
        }

    def rows(self):
        return [(c, self[f"met_{c.id}"], self[f"evidence_{c.id}"]) for c in self.criteria]


class ReportDraftForm(forms.Form):
    content_zh = forms.CharField(
        label=_("Content (Chinese)"),
        required=False,
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    content_en = forms.CharField(
        label=_("Content (English mirror)"),
        required=False,
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ReportSubmitForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=RegulatoryReport.Channel.choices)
    submitted_at = forms.DateTimeField(label=_("Submitted at"), widget=DateTimeLocal)
    reference_number = forms.CharField(label=_("Reference number"), required=False, max_length=120)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000)


class ReceiptForm(forms.Form):
    reference_number = forms.CharField(
        label=_("Receipt or reference number"), required=False, max_length=120
    )


class ReviewForm(forms.Form):
    summary = forms.CharField(
        label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    impact = forms.CharField(
        label=_("Impact"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    root_cause = forms.CharField(
        label=_("Root cause"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    contributing_factors = forms.CharField(
        label=_("Contributing factors"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    went_well = forms.CharField(
        label=_("What went well"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    went_badly = forms.CharField(
        label=_("What went badly"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    lessons = forms.CharField(
        label=_("Lessons"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    close_waiver = forms.CharField(
        label=_("Close waiver (why close before the review is published)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReviewStateForm(forms.Form):
    state = forms.ChoiceField(choices=Review.State.choices)


class OtherIncidentForm(forms.Form):
    other = forms.CharField(
        label=_("Incident reference"), max_length=20, help_text=_("For example INC-2026-00042")
    )
    relation = forms.ChoiceField(
        label=_("Link"),
        required=False,
        choices=[("related", _("Related")), ("parent", _("Parent"))],
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000)


class DetailsForm(ScopeFields):
    field_order = ["title", "title_zh", "summary", "discovered_at", "harm_started_at"]
    title = forms.CharField(label=_("Title"), max_length=200)
    title_zh = forms.CharField(label=_("Title in Chinese"), max_length=200, required=False)
    summary = forms.CharField(
        label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    discovered_at = forms.DateTimeField(label=_("Discovered (发现或获知)"), widget=DateTimeLocal)
    reason = forms.CharField(label=_("Reason for the change"), required=False, max_length=2000)
