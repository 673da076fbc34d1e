"""The CloudFormation engine against a real moto server over HTTP."""

import json

import boto3
import botocore.exceptions
import pytest
from botocore.stub import Stubber
from django.utils import timezone

from deployer import cloudformation, rollouts, runs
from deployer.models import Deployment, EventSource, Rollout, Status
from lib import aws
from regions.models import RegionState

from .conftest import region_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def main_region(application, aws):
    return application.regions.get(code="us-east-1")


@pytest.fixture
def fast(settings):
    settings.DEPLOY_POLL_INTERVAL = 0.05


def plan_and_run(d: Deployment) -> Deployment:
    """Plan (create the change set), apply and run the deployment in this process."""
    runs.plan_deployment(d.pk)
    d.refresh_from_db()
    assert d.status == Status.PLANNED, d.explanation
    d.rollout.refresh_from_db()
    if d.rollout.status == Status.AWAITING_CONFIRMATION:
        rollouts.confirm(d.rollout, None)
    else:
        rollouts.begin_apply(d.rollout)
    runs.run_deployment(d.pk)
    d.refresh_from_db()
    return d


def cloudformation_client(region="us-east-1"):
    return aws.client("cloudformation", region)


def stack_executions(stack_name: str, region: str = "us-east-1") -> int:
    """How many times a change set was executed on the stack, by CloudFormation's own log."""
    events = cloudformation_client(region).describe_stack_events(StackName=stack_name)
    return sum(
        1 for e in events["StackEvents"]
        if e["ResourceType"] == "AWS::CloudFormation::Stack"
        and e["ResourceStatus"] in ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS")
    )


def test_a_new_stack_is_created_and_its_outputs_land_on_the_region(
        main_region, make_deployment, fast):
    d = make_deployment(main_region, region_template("orders", "us-east-1", main=True))

    d = plan_and_run(d)

    assert d.status == Status.SUCCEEDED, d.explanation
    assert d.action_label == "Create main region"  # a first deploy creates, not updates
    assert {c["action"] for c in d.changes} == {"Add"}
    assert {c["logical_id"] for c in d.changes} == {"Health", "Release", "Alerts", "Table",
                                                    "Replicas"}
    assert d.progress == 100
    stack = cloudformation_client().describe_stacks(StackName="orders-us-east-1")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    main_region.refresh_from_db()
    assert main_region.state == RegionState.ACTIVE
    assert main_region.health_check_id == d.outputs["HealthCheckId"] != ""
    assert main_region.api_url == "https://us-east-1.api.example.com/prod/"
    assert main_region.outputs["TableName"] == "orders"


def test_an_update_executes_only_the_reviewed_change_set(main_region, make_deployment, fast):
    plan_and_run(make_deployment(main_region, region_template("orders", "us-east-1")))
    main_region.refresh_from_db()
    changed = make_deployment(main_region, region_template("orders", "us-east-1", release="2"))

    changed = plan_and_run(changed)

    assert changed.status == Status.SUCCEEDED, changed.explanation
    assert [(c["logical_id"], c["action"]) for c in changed.changes] == [("Release", "Modify")]
    # moto gives no property details (CloudFormation does): the review lists the change alone.
    assert changed.changes[0]["details"] == []
    ssm = aws.client("ssm", "us-east-1")
    assert ssm.get_parameter(Name="/orders/us-east-1/release")["Parameter"]["Value"] == "2"
    assert stack_executions("orders-us-east-1") == 2
    executed = cloudformation_client().describe_change_set(ChangeSetName=changed.change_set_id)
    assert executed["ExecutionStatus"] == "EXECUTE_COMPLETE"
    assert changed.action_label == "Update main region"


def test_an_unchanged_template_is_a_success_with_no_changes(main_region, make_deployment, fast):
    template = region_template("orders", "us-east-1")
    plan_and_run(make_deployment(main_region, template))

    again = plan_and_run(make_deployment(main_region, template))

    assert again.status == Status.SUCCEEDED
    assert again.changes == []
    assert again.explanation.startswith("No changes")
    assert stack_executions("orders-us-east-1") == 1
    assert again.events.filter(message__contains="No changes").exists()


def test_a_create_that_cloudformation_rejects_fails_with_its_reason_in_the_log(
        main_region, make_deployment, fast):
    d = make_deployment(main_region, region_template("orders", "us-east-1", fail=True))

    d = plan_and_run(d)

    assert d.status == Status.FAILED
    assert "Invalid Rest API Id" in d.explanation
    assert d.events.filter(level="error", message__contains="Invalid Rest API Id").exists()
    main_region.refresh_from_db()
    assert main_region.state == RegionState.FAILED
    d.rollout.refresh_from_db()
    assert d.rollout.status == Status.FAILED


def test_a_stack_left_in_rollback_complete_is_deleted_and_created_again(
        main_region, make_deployment, fast, monkeypatch):
    first = make_deployment(main_region, region_template("orders", "us-east-1", release="old"))
    plan_and_run(first)
    old_id = cloudformation_client().describe_stacks(
        StackName="orders-us-east-1")["Stacks"][0]["StackId"]
    # moto never rolls back, so the stack is made to read as a first create that rolled back.
    real_client = aws.client

    def rolled_back_client(service, region, application=None, **kw):
        client = real_client(service, region, application, **kw)

        def mark(parsed, **_):
            for stack in parsed.get("Stacks", []):
                if stack["StackId"] == old_id and stack["StackStatus"] == "CREATE_COMPLETE":
                    stack["StackStatus"] = "ROLLBACK_COMPLETE"

        client.meta.events.register("after-call.cloudformation.DescribeStacks", mark)
        return client

    monkeypatch.setattr(cloudformation.engine.aws, "client", rolled_back_client)
    second = make_deployment(main_region, region_template("orders", "us-east-1", release="new"))

    second = plan_and_run(second)

    assert second.status == Status.SUCCEEDED, second.explanation
    assert second.events.filter(message__contains="ROLLBACK_COMPLETE",
                                message__icontains="deleting").exists()
    assert {c["action"] for c in second.changes} == {"Add"}
    stack = cloudformation_client().describe_stacks(StackName="orders-us-east-1")["Stacks"][0]
    assert stack["StackId"] != old_id
    ssm = aws.client("ssm", "us-east-1")
    assert ssm.get_parameter(Name="/orders/us-east-1/release")["Parameter"]["Value"] == "new"


def test_a_stack_in_review_in_progress_is_created_with_a_new_change_set(
        main_region, make_deployment, fast):
    abandoned = make_deployment(main_region, region_template("orders", "us-east-1"))
    runs.plan_deployment(abandoned.pk)
    stack = cloudformation_client().describe_stacks(StackName="orders-us-east-1")["Stacks"][0]
    assert stack["StackStatus"] == "REVIEW_IN_PROGRESS"
    Deployment.objects.filter(pk=abandoned.pk).update(status=Status.CANCELLED)
    assert abandoned.rollout.end(Status.CANCELLED, from_statuses=(Status.PLANNED,))

    d = plan_and_run(make_deployment(main_region, region_template("orders", "us-east-1")))

    assert d.status == Status.SUCCEEDED, d.explanation
    assert d.events.filter(message__contains="REVIEW_IN_PROGRESS").exists()


def test_stale_review_stacks_of_the_same_name_are_deleted_and_the_live_stack_is_updated(
        main_region, make_deployment, fast):
    # What earlier plans left in an emulator that keeps one stack per CREATE change set: an
    # empty stack described first under the name, in front of the stack that was deployed.
    cfn = cloudformation_client()
    body = json.dumps(region_template("orders", "us-east-1", main=True))
    stale = cfn.create_change_set(StackName="orders-us-east-1", ChangeSetName="stale",
                                  ChangeSetType="CREATE", TemplateBody=body)
    live = cfn.create_change_set(StackName="orders-us-east-1", ChangeSetName="live",
                                 ChangeSetType="CREATE", TemplateBody=body)
    cfn.execute_change_set(ChangeSetName=live["Id"])
    assert cfn.describe_stacks(StackName="orders-us-east-1")["Stacks"][0]["StackId"] == (
        stale["StackId"])

    d = plan_and_run(make_deployment(
        main_region, region_template("orders", "us-east-1", ["eu-west-1"], main=True)))

    assert d.status == Status.SUCCEEDED, d.explanation
    assert [(c["logical_id"], c["action"]) for c in d.changes] == [("Replicas", "Modify")]
    assert d.events.filter(message="Deleted change set stale, which never ran.").exists()
    assert [(s["StackId"], s["StackStatus"]) for s in cfn.describe_stacks()["Stacks"]] == [
        (live["StackId"], "UPDATE_COMPLETE")]


def test_a_stack_whose_update_rollback_failed_is_rolled_back_then_updated(
        application, make_deployment, fast):
    d = make_deployment(application.regions.get(), {"Resources": {}})
    engine, stub = stubbed_engine(d)
    by_name, by_id = {"StackName": "orders-us-east-1"}, {"StackName": "stack-id"}
    stub.add_response("describe_stacks", {"Stacks": [described_stack("UPDATE_ROLLBACK_FAILED")]},
                      by_name)
    stub.add_response("continue_update_rollback", {}, by_id)
    stub.add_response("describe_stacks", {"Stacks": [
        described_stack("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")]}, by_id)
    stub.add_response("describe_stacks", {"Stacks": [described_stack("UPDATE_ROLLBACK_COMPLETE")]},
                      by_id)
    stub.add_response("describe_stacks", {"Stacks": [described_stack("UPDATE_ROLLBACK_COMPLETE")]},
                      by_name)

    with stub:
        kind = engine.prepare_stack()

    stub.assert_no_pending_responses()
    assert kind == "UPDATE"
    assert d.events.filter(level="warning", message__contains="continuing the rollback").exists()


def test_a_stack_in_a_state_only_an_operator_can_resolve_is_explained(
        application, make_deployment, fast):
    d = make_deployment(application.regions.get(), {"Resources": {}})
    engine, stub = stubbed_engine(d)
    stub.add_response("describe_stacks", {"Stacks": [
        {**described_stack("IMPORT_ROLLBACK_FAILED"), "StackStatusReason": "import failed"}]})

    with stub, pytest.raises(cloudformation.EngineError) as caught:
        engine.prepare_stack()

    assert str(caught.value) == (
        "Stack orders-us-east-1 is IMPORT_ROLLBACK_FAILED (import failed). Resolve it in the "
        "CloudFormation console, then plan again.")


def described_stack(status: str) -> dict:
    return {"StackId": "stack-id", "StackName": "orders-us-east-1", "StackStatus": status,
            "CreationTime": timezone.now()}


def test_each_cloudformation_event_is_written_once_and_in_order(
        main_region, make_deployment, fast):
    d = plan_and_run(make_deployment(main_region, region_template("orders", "us-east-1")))
    engine = cloudformation.Engine(d)

    engine.follow_once()
    engine.follow_once()

    cfn = list(d.events.filter(source=EventSource.CLOUDFORMATION))
    ids = [e.external_id for e in cfn]
    assert len(ids) == len(set(ids)) >= 2
    assert [e.status for e in cfn][-1] == "CREATE_COMPLETE"
    seqs = list(d.events.values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    # Events of the stack's earlier runs are not copied into a later deployment's log.
    again = plan_and_run(make_deployment(main_region,
                                         region_template("orders", "us-east-1", release="2")))
    again_ids = set(again.events.exclude(external_id="").values_list("external_id", flat=True))
    assert again_ids and not again_ids & set(ids)


def test_stateful_replacements_and_removals_are_flagged():
    change = {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "Table",
                                 "ResourceType": "AWS::DynamoDB::GlobalTable",
                                 "Replacement": "True"}}
    record_removed = {"ResourceChange": {"Action": "Remove", "LogicalResourceId": "Dns",
                                         "ResourceType": "AWS::Route53::RecordSet"}}
    record_modified = {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "Dns",
                                          "ResourceType": "AWS::Route53::RecordSet",
                                          "Replacement": "True"}}
    conditional = {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "Check",
                                      "ResourceType": "AWS::Route53::HealthCheck",
                                      "Replacement": "Conditional"}}
    harmless = {"ResourceChange": {"Action": "Remove", "LogicalResourceId": "P",
                                   "ResourceType": "AWS::SSM::Parameter"}}

    parsed = [cloudformation.parse_change(c) for c in
              (change, record_removed, record_modified, conditional, harmless)]

    assert [p["stateful_flag"] for p in parsed] == [True, True, False, True, False]
    assert parsed[0]["replacement"] is True
    assert parsed[3]["replacement"] == "Conditional"


def test_a_plan_that_removes_a_table_waits_for_confirmation(main_region, make_deployment, fast):
    plan_and_run(make_deployment(main_region, region_template("orders", "us-east-1", main=True)))
    d = make_deployment(main_region, region_template("orders", "us-east-1", main=False))

    runs.plan_deployment(d.pk)

    d.rollout.refresh_from_db()
    assert d.rollout.status == Status.AWAITING_CONFIRMATION
    assert d.rollout.needs_confirmation
    flagged = {c["logical_id"] for c in Deployment.objects.get(pk=d.pk).stateful_changes}
    assert flagged == {"Table"}
    with pytest.raises(rollouts.NotAllowed):
        rollouts.apply(d.rollout, None)


def test_throttling_is_retried_and_logged_not_raised(main_region, make_deployment, fast,
                                                     monkeypatch, settings):
    settings.DEPLOY_AWS_ATTEMPTS = 3
    real_client = aws.client
    throttled = {"left": 1}

    def throttling_client(service, region, application=None, **kw):
        client = real_client(service, region, application, **kw)

        def throttle(**_):
            if throttled["left"]:
                throttled["left"] -= 1
                raise botocore.exceptions.ClientError(
                    {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}},
                    "CreateChangeSet")

        client.meta.events.register("before-call.cloudformation.CreateChangeSet", throttle)
        return client

    monkeypatch.setattr(cloudformation.engine.aws, "client", throttling_client)
    monkeypatch.setattr(cloudformation.engine.random, "uniform", lambda a, b: 0.01)

    d = plan_and_run(make_deployment(main_region, region_template("orders", "us-east-1")))

    assert d.status == Status.SUCCEEDED, d.explanation
    assert d.events.filter(level="warning", message__contains="Throttling").exists()


def test_elapsed_is_derived_from_execution_and_finish(main_region, make_deployment):
    d = make_deployment(main_region, {})
    start = timezone.now()
    d.started_at, d.finished_at = start, start + timezone.timedelta(seconds=90)
    assert d.elapsed is None  # planned, never executed: no duration to show

    d.executed_at = start + timezone.timedelta(seconds=30)
    assert d.elapsed == 60


def test_a_rollout_lasts_from_its_request_to_its_end(application):
    created = timezone.now() - timezone.timedelta(seconds=18)
    rollout = Rollout.objects.create(application=application, created_at=created,
                                     started_at=created + timezone.timedelta(seconds=17),
                                     finished_at=created + timezone.timedelta(seconds=18))
    assert rollout.elapsed == 18


def stubbed_engine(d: Deployment):
    """An engine whose CloudFormation answers come from a botocore Stubber, page by page."""
    engine = cloudformation.Engine(d)
    engine._cf = boto3.client("cloudformation", region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
    return engine, Stubber(engine._cf)


def stack_event(event_id: str) -> dict:
    return {"StackId": "stack-id", "EventId": event_id, "StackName": "orders-us-east-1",
            "Timestamp": timezone.now(), "LogicalResourceId": "Release",
            "ResourceType": "AWS::SSM::Parameter", "ResourceStatus": "CREATE_COMPLETE"}


def added(logical_id: str) -> dict:
    return {"Type": "Resource", "ResourceChange": {
        "Action": "Add", "LogicalResourceId": logical_id, "ResourceType": "AWS::SNS::Topic"}}


def test_a_change_set_over_several_pages_is_read_whole_once_it_is_ready(
        application, make_deployment, fast):
    d = make_deployment(application.regions.get(), {})
    d.change_set_id = "change-set-arn"
    engine, stub = stubbed_engine(d)
    # Every page is asked for the property values the review shows.
    first = {"ChangeSetName": "change-set-arn", "IncludePropertyValues": True}
    stub.add_response("describe_change_set", {"Status": "CREATE_IN_PROGRESS"}, first)
    stub.add_response("describe_change_set", {"Status": "CREATE_COMPLETE", "NextToken": "p2",
                                              "Changes": [added("Alerts")]}, first)
    stub.add_response("describe_change_set", {"Status": "CREATE_COMPLETE",
                                              "Changes": [added("Topic")]},
                      {**first, "NextToken": "p2"})

    with stub:
        described = engine.wait_for_change_set()

    stub.assert_no_pending_responses()
    assert [c["ResourceChange"]["LogicalResourceId"] for c in described["Changes"]] == [
        "Alerts", "Topic"]


def test_stack_events_are_paged_back_to_the_baseline_and_a_throttled_page_is_read_again(
        application, make_deployment, fast, monkeypatch):
    d = make_deployment(application.regions.get(), {})
    d.baseline_event_id = "e1"
    engine, stub = stubbed_engine(d)
    monkeypatch.setattr(cloudformation.engine.random, "uniform", lambda a, b: 0.01)
    first, second = {"StackName": "stack-id"}, {"StackName": "stack-id", "NextToken": "p2"}
    page_one = {"StackEvents": [stack_event("e4"), stack_event("e3")], "NextToken": "p2"}
    page_two = {"StackEvents": [stack_event("e2"), stack_event("e1"), stack_event("e0")],
                "NextToken": "p3"}
    stub.add_response("describe_stack_events", page_one, first)
    stub.add_client_error("describe_stack_events", "Throttling", "Rate exceeded",
                          expected_params=second)
    stub.add_response("describe_stack_events", page_one, first)
    stub.add_response("describe_stack_events", page_two, second)

    with stub:
        events = engine.new_events("stack-id", seen=set())

    stub.assert_no_pending_responses()
    # Oldest first, nothing from before the baseline, and no third page was asked for.
    assert [e["EventId"] for e in events] == ["e2", "e3", "e4"]
    assert d.events.filter(level="warning", message__contains="Throttling").exists()
