"""Regulatory reports and the post-incident review."""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from incidents.api.serializers.inputs import (
    ReportDraftInputSerializer,
    ReportNotRequiredInputSerializer,
    ReportReceiptInputSerializer,
    ReportSubmitInputSerializer,
    ReviewStateInputSerializer,
    ReviewUpdateInputSerializer,
)
from incidents.api.serializers.outputs import (
    ErrorOutputSerializer,
    ReportOutputSerializer,
    ReviewOutputSerializer,
)
from incidents.api.views.common import IncidentBaseApi, ensure_visible, incident_or_404, parse
from incidents.models import RegulatoryReport, Review
from incidents.selectors import incident_reports, incident_review, incident_visible_to
from incidents.services import (
    report_add_supplement,
    report_mark_not_required,
    report_record_receipt,
    report_save_draft,
    report_submit,
    review_save,
    review_set_state,
)

CONFLICT = {
    409: OpenApiResponse(
        ErrorOutputSerializer, description="Already submitted, or not in a state for this."
    )
}


def _report_or_404(viewer, report_id: int) -> RegulatoryReport:
    report = (
        RegulatoryReport.objects.filter(id=report_id, incident__in=incident_visible_to(viewer))
        .select_related("obligation", "submitted_by")
        .first()
    )
    if report is None:
        raise Http404
    return report


def _report_response(request, report_id: int, *, status_code=status.HTTP_200_OK) -> Response:
    report = _report_or_404(request.user, report_id)
    return Response(ReportOutputSerializer(report).data, status=status_code)


class IncidentReportListApi(IncidentBaseApi):
    """The reports owed to authorities for this incident, soonest due first."""

    @extend_schema(responses=ReportOutputSerializer(many=True))
    def get(self, request, incident_id: int):
        incident = incident_or_404(request.user, incident_id)
        reports = incident_reports(incident=incident)
        return Response(ReportOutputSerializer(reports, many=True).data)


class ReportDetailApi(IncidentBaseApi):
    """Save the draft content (Chinese required to submit; English mirror)."""

    @extend_schema(
        request=ReportDraftInputSerializer, responses={200: ReportOutputSerializer, **CONFLICT}
    )
    def patch(self, request, report_id: int):
        report = _report_or_404(request.user, report_id)
        data = parse(ReportDraftInputSerializer, request.data)
        report_save_draft(
            actor=request.user,
            report_id=report_id,
            content_zh=data.get("content_zh", report.content_zh),
            content_en=data.get("content_en", report.content_en),
        )
        return _report_response(request, report_id)


class ReportSubmitApi(IncidentBaseApi):
    """Record that the report went to the authority; its content is frozen."""

    @extend_schema(
        request=ReportSubmitInputSerializer, responses={200: ReportOutputSerializer, **CONFLICT}
    )
    def post(self, request, report_id: int):
        _report_or_404(request.user, report_id)
        data = parse(ReportSubmitInputSerializer, request.data)
        report_submit(
            actor=request.user,
            report_id=report_id,
            channel=data["channel"],
            submitted_at=data.get("submitted_at") or timezone.now(),
            reference_number=data["reference_number"],
        )
        return _report_response(request, report_id)


class ReportReceiptApi(IncidentBaseApi):
    """The authority acknowledged a submitted report."""

    @extend_schema(
        request=ReportReceiptInputSerializer, responses={200: ReportOutputSerializer, **CONFLICT}
    )
    def post(self, request, report_id: int):
        _report_or_404(request.user, report_id)
        data = parse(ReportReceiptInputSerializer, request.data)
        report_record_receipt(actor=request.user, report_id=report_id, **data)
        return _report_response(request, report_id)


class ReportNotRequiredApi(IncidentBaseApi):
    """No report is owed after all; the reason is kept."""

    @extend_schema(
        request=ReportNotRequiredInputSerializer,
        responses={200: ReportOutputSerializer, **CONFLICT},
    )
    def post(self, request, report_id: int):
        _report_or_404(request.user, report_id)
        data = parse(ReportNotRequiredInputSerializer, request.data)
        report_mark_not_required(actor=request.user, report_id=report_id, **data)
        return _report_response(request, report_id)


class ReportSupplementApi(IncidentBaseApi):
    """Start a supplementary report to a submitted one; answers with the new report."""

    @extend_schema(request=None, responses={201: ReportOutputSerializer, **CONFLICT})
    def post(self, request, report_id: int):
        _report_or_404(request.user, report_id)
        report = report_add_supplement(actor=request.user, report_id=report_id)
        return _report_response(request, report.id, status_code=status.HTTP_201_CREATED)


class IncidentReviewApi(IncidentBaseApi):
    """GET: the post-incident review (an empty draft until someone writes it).
    PATCH: edit it (only the fields sent); a published review is final (409)."""

    @extend_schema(responses=ReviewOutputSerializer)
    def get(self, request, incident_id: int):
        incident = incident_or_404(request.user, incident_id)
        review = incident_review(incident=incident) or Review(incident=incident)
        return Response(ReviewOutputSerializer(review).data)

    @extend_schema(
        request=ReviewUpdateInputSerializer, responses={200: ReviewOutputSerializer, **CONFLICT}
    )
    def patch(self, request, incident_id: int):
        ensure_visible(request.user, incident_id)
        data = parse(ReviewUpdateInputSerializer, request.data)
        review = review_save(actor=request.user, incident_id=incident_id, **data)
        return Response(ReviewOutputSerializer(review).data)


class IncidentReviewStateApi(IncidentBaseApi):
    """Move the review to draft, in review or published (the commander publishes)."""

    @extend_schema(
        request=ReviewStateInputSerializer, responses={200: ReviewOutputSerializer, **CONFLICT}
    )
    def post(self, request, incident_id: int):
        ensure_visible(request.user, incident_id)
        data = parse(ReviewStateInputSerializer, request.data)
        review = review_set_state(actor=request.user, incident_id=incident_id, **data)
        return Response(ReviewOutputSerializer(review).data)
