"""A drill history as CSV: one row per drill, the measured times in seconds."""

import csv

from django.http import HttpResponse

COLUMNS = ("id", "application", "region", "status", "minutes", "requested_by", "source",
           "requested_at", "drained_at", "routing_unhealthy_at", "dns_shifted_at",
           "restore_requested_at", "restored_at", "answers_back_at", "finished_at",
           "seconds_to_dns_shift", "seconds_to_restore", "abort_reason", "explanation")


def _when(moment) -> str:
    return moment.isoformat() if moment else ""


def _secs(value) -> str:
    return f"{value:.2f}" if value is not None else ""


def row(drill) -> list:
    return [drill.pk, drill.application.slug, drill.region.code, drill.status,
            f"{drill.minutes:g}", drill.actor_name, drill.source, _when(drill.requested_at),
            _when(drill.drained_at), _when(drill.unhealthy_at), _when(drill.shifted_at),
            _when(drill.restore_requested_at), _when(drill.restored_at),
            _when(drill.answers_back_at), _when(drill.finished_at),
            _secs(drill.seconds_to_dns_shift), _secs(drill.seconds_to_restore),
            drill.abort_reason, drill.explanation]


def response(application, drills) -> HttpResponse:
    answer = HttpResponse(content_type="text/csv; charset=utf-8")
    answer["Content-Disposition"] = f'attachment; filename="{application.slug}-drills.csv"'
    writer = csv.writer(answer)
    writer.writerow(COLUMNS)
    for drill in drills:
        writer.writerow(row(drill))
    return answer
