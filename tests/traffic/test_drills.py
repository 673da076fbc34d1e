"""Drills against moto over HTTP, run in the test process: the measured timeline, the restore
claimed once, the outcome checks that abort, the guard's refusal, and beat's settling pass."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.audit import Actor
from regions.models import Traffic
from traffic import drills, services
from traffic.models import Drill, DrillStatus, TrafficChange
from traffic.models import Milestone as M
from watch.models import ReplicationSample

from .conftest import set_health, threshold_of

pytestmark = pytest.mark.django_db


def no_wait(seconds):
    pass


def due_now(drill: Drill) -> None:
    Drill.objects.filter(pk=drill.pk).update(ends_at=timezone.now() - timedelta(seconds=1))


def kinds(drill: Drill) -> list[str]:
    return list(drill.events.values_list("kind", flat=True))


def test_a_drill_drains_measures_the_shift_and_restores_with_its_times(
        records, application, operator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():  # the tasks are a worker's; not run here
        drill = drills.start(application, "eu-west-1", 1, Actor(operator))

    assert drill.status == DrillStatus.RUNNING
    assert threshold_of(records["eu-west-1"]) == 3
    change = TrafficChange.objects.get(pk=drill.drain_change_id)
    assert (change.source, change.reason) == ("drill", f"drill {drill.pk}")
    assert drills.follow(drill.pk, sleep=no_wait).startswith(f"drill {drill.pk}: DNS shifted")
    drill.refresh_from_db()
    assert drill.seconds_to_dns_shift >= 0
    assert "clients near eu-west-1 now get us-east-1" in drill.events.get(
        kind=M.DNS_SHIFTED).message

    assert drills.end(drill.pk) == f"drill {drill.pk}: not due, or ended elsewhere"
    due_now(drill)
    assert drills.end(drill.pk, sleep=no_wait) == f"drill {drill.pk}: restored"
    assert drills.end(drill.pk) == f"drill {drill.pk}: not due, or ended elsewhere"

    drill.refresh_from_db()
    assert drill.status == DrillStatus.RESTORED
    assert drill.seconds_to_restore >= 0
    assert threshold_of(records["eu-west-1"]) == 2
    assert kinds(drill) == [M.REQUESTED, M.ROUTE53_UPDATED, M.ALARM_SET, M.ROUTING_UNHEALTHY,
                            M.DNS_SHIFTED, M.RESTORE_REQUESTED, M.RESTORED, M.ANSWERS_BACK]
    assert TrafficChange.objects.filter(source="drill").count() == 2


def test_a_drill_that_would_leave_fewer_than_min_serving_is_refused_and_kept_as_failed(
        records, application, operator):
    set_health(records["ap-southeast-2"], False)
    services.change_traffic(application, "us-east-1", "drain", Actor(operator))

    with pytest.raises(services.Refused, match="Draining eu-west-1 would leave 0 regions"):
        drills.start(application, "eu-west-1", 1, Actor(operator))

    drill = Drill.objects.get()
    assert drill.status == DrillStatus.FAILED
    assert drill.explanation.startswith("Refused: Draining eu-west-1 would leave 0 regions")
    assert threshold_of(records["eu-west-1"]) == 2


def test_one_drill_per_application_at_a_time(records, application, operator,
                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        first = drills.start(application, "eu-west-1", 5, Actor(operator))
    with pytest.raises(services.Refused, match=f"drill {first.pk} of eu-west-1, until"):
        drills.start(application, "ap-southeast-2", 5, Actor(operator))


@pytest.mark.parametrize("minutes", [0, 0.05, 1441, "soon"])
def test_minutes_out_of_range_are_refused_in_words(records, application, operator, minutes):
    with pytest.raises(drills.DrillError, match="minutes"):
        drills.start(application, "eu-west-1", minutes, Actor(operator))
    assert not Drill.objects.exists()


def test_a_remaining_region_turning_unhealthy_aborts_and_restores_at_once(
        records, application, operator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        drill = drills.start(application, "eu-west-1", 30, Actor(operator))
    set_health(records["ap-southeast-2"], False)

    assert drills.follow(drill.pk, sleep=no_wait) == f"drill {drill.pk}: failed"

    drill.refresh_from_db()
    assert drill.status == DrillStatus.FAILED
    assert drill.abort_reason == ("ap-southeast-2 is unhealthy while eu-west-1 is drained for "
                                  "the drill.")
    assert drill.explanation.startswith("Aborted and restored: ap-southeast-2 is unhealthy")
    assert drill.restored_at is not None
    records["eu-west-1"].refresh_from_db()
    assert records["eu-west-1"].traffic == Traffic.SERVING
    assert threshold_of(records["eu-west-1"]) == 2
    assert M.ABORTED in kinds(drill)


def test_replication_lag_above_the_critical_threshold_aborts_the_drill_from_beat(
        records, application, operator, settings, django_capture_on_commit_callbacks):
    settings.LAG_CRIT_MS = 5000
    with django_capture_on_commit_callbacks():
        drill = drills.start(application, "eu-west-1", 30, Actor(operator))
    minute = timezone.now().replace(second=0, microsecond=0)
    ReplicationSample.objects.create(application=application, source="us-east-1",
                                     receiving="ap-southeast-2", at=minute, latency_ms=12000)

    report = drills.settle()

    assert report == [f"drill {drill.pk}: failed"]
    drill.refresh_from_db()
    assert drill.abort_reason == ("replication us-east-1 → ap-southeast-2 lags 12.0 s (at or "
                                  "above 5.0 s).")
    assert threshold_of(records["eu-west-1"]) == 2


def test_beat_ends_an_overdue_drill_and_leaves_a_running_one_alone(
        records, application, operator, django_capture_on_commit_callbacks, settings):
    settings.DRILL_POLL_INTERVAL = 0
    with django_capture_on_commit_callbacks():
        drill = drills.start(application, "eu-west-1", 5, Actor(operator))
    assert drills.settle() == []
    due_now(drill)

    assert drills.settle() == [f"drill {drill.pk}: restored"]
    drill.refresh_from_db()
    assert drill.status == DrillStatus.RESTORED


def test_a_stale_restore_claim_is_taken_again(records, application, operator, settings,
                                              django_capture_on_commit_callbacks):
    settings.DRILL_POLL_INTERVAL = 0
    with django_capture_on_commit_callbacks():
        drill = drills.start(application, "eu-west-1", 5, Actor(operator))
    long_ago = timezone.now() - drills.restore_timeout() - timedelta(seconds=5)
    Drill.objects.filter(pk=drill.pk).update(ends_at=long_ago, restore_requested_at=long_ago)

    assert drills.settle() == [f"drill {drill.pk}: restored"]
    assert threshold_of(records["eu-west-1"]) == 2


def test_a_region_restored_by_hand_during_the_drill_ends_it_without_a_second_change(
        records, application, operator, settings, django_capture_on_commit_callbacks):
    settings.DRILL_POLL_INTERVAL = 0
    with django_capture_on_commit_callbacks():
        drill = drills.start(application, "eu-west-1", 5, Actor(operator))
    services.change_traffic(application, "eu-west-1", "restore", Actor(operator))
    due_now(drill)

    assert drills.end(drill.pk) == f"drill {drill.pk}: restored"
    assert "was already serving (changed by hand)" in Drill.objects.get().events.get(
        kind=M.RESTORED).message
    assert TrafficChange.objects.filter(source="drill").count() == 1
