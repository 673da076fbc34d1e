"""Reading a change set's changes: nested stacks' change sets read in turn (as CloudFormation
answers DescribeChangeSet for a set made with IncludeNestedStacks), and the changes that need
confirmation flagged. moto makes no nested change sets, so these answers are written here in
the shape CloudFormation documents."""

from deployer.cloudformation import parse_change
from deployer.cloudformation.changes import parse_changes


def change(logical_id, kind, action="Modify", replacement="False", nested=""):
    rc = {"Action": action, "LogicalResourceId": logical_id, "ResourceType": kind,
          "PhysicalResourceId": f"phys-{logical_id}"}
    if action == "Modify":
        rc["Replacement"] = replacement
    if nested:
        rc["ChangeSetId"] = nested
    return {"Type": "Resource", "ResourceChange": rc}


NESTED = {
    "arn:cs/alerts": {"Changes": [change("Topic", "AWS::SNS::Topic", "Add"),
                                  change("Inner", "AWS::CloudFormation::Stack", nested="arn:cs/inner")]},
    "arn:cs/inner": {"Changes": [change("Table", "AWS::DynamoDB::Table", replacement="True")]},
    "arn:cs/replicas": {"Changes": [change("Replicaeuwest1", "Custom::DynamoDBReplica", "Remove")]},
}


def test_the_changes_of_nested_stacks_follow_their_stack_with_prefixed_logical_ids():
    asked = []

    def describe(change_set_id):
        asked.append(change_set_id)
        return NESTED[change_set_id]

    parsed = parse_changes([
        change("Writer", "AWS::Lambda::Function"),
        change("AlertsNestedStack", "AWS::CloudFormation::Stack", nested="arn:cs/alerts"),
        change("ReplicaProvider", "AWS::CloudFormation::Stack", nested="arn:cs/replicas"),
    ], describe)

    assert [(c["logical_id"], c["action"], c["stateful_flag"]) for c in parsed] == [
        ("Writer", "Modify", False),
        ("AlertsNestedStack", "Modify", False),
        ("AlertsNestedStack/Topic", "Add", False),
        ("AlertsNestedStack/Inner", "Modify", False),
        ("AlertsNestedStack/Inner/Table", "Modify", True),
        ("ReplicaProvider", "Modify", False),
        ("ReplicaProvider/Replicaeuwest1", "Remove", True),
    ]
    assert asked == ["arn:cs/alerts", "arn:cs/inner", "arn:cs/replicas"]


def test_a_nested_stack_without_a_change_set_of_its_own_is_one_change():
    parsed = parse_changes([change("Alerts", "AWS::CloudFormation::Stack", "Add")],
                           lambda _: AssertionError("nothing to describe"))
    assert [c["logical_id"] for c in parsed] == ["Alerts"]


def test_removing_or_replacing_a_dynamodb_replica_needs_confirmation():
    assert parse_change(change("Replica", "Custom::DynamoDBReplica", "Remove"))["stateful_flag"]
    assert parse_change(change("Replica", "Custom::DynamoDBReplica",
                               replacement="True"))["stateful_flag"]
    assert not parse_change(change("Replica", "Custom::DynamoDBReplica"))["stateful_flag"]


def test_removing_a_nested_stack_needs_confirmation_and_changing_it_does_not():
    assert parse_change(change("Alerts", "AWS::CloudFormation::Stack", "Remove"))["stateful_flag"]
    assert not parse_change(change("Alerts", "AWS::CloudFormation::Stack"))["stateful_flag"]


# DescribeChangeSet with IncludePropertyValues, in the shape of AWS's documented example
# ("Example change set with property values", AWS CloudFormation User Guide).
DOCUMENTED = {
    "Type": "Resource",
    "ResourceChange": {
        "PolicyAction": "ReplaceAndDelete",
        "Action": "Modify",
        "LogicalResourceId": "MyS3Bucket",
        "PhysicalResourceId": "my-s3-bucket",
        "ResourceType": "AWS::S3::Bucket",
        "Replacement": "True",
        "Scope": ["Properties", "Tags"],
        "Details": [
            {"Target": {"Attribute": "Properties", "Name": "BucketName",
                        "RequiresRecreation": "Always", "Path": "/Properties/BucketName",
                        "BeforeValue": "my-s3-bucket", "AfterValue": "my-s3-bucket-2",
                        "AttributeChangeType": "Modify"},
             "Evaluation": "Static", "ChangeSource": "DirectModification"},
            {"Target": {"Attribute": "Tags", "RequiresRecreation": "Never",
                        "Path": "/Properties/Tags/0/Value", "BeforeValue": "prod",
                        "AfterValue": "staging", "AttributeChangeType": "Modify"},
             "Evaluation": "Static", "ChangeSource": "DirectModification"},
            {"Target": {"Attribute": "Properties", "Name": "VersioningConfiguration",
                        "RequiresRecreation": "Never",
                        "Path": "/Properties/VersioningConfiguration",
                        "AfterValue": "{\"Status\":\"Enabled\"}", "AttributeChangeType": "Add"},
             "Evaluation": "Static", "ChangeSource": "DirectModification"},
            # The same property again, evaluated when the change set runs: listed once.
            {"Target": {"Attribute": "Properties", "Name": "BucketName",
                        "RequiresRecreation": "Always", "Path": "/Properties/BucketName"},
             "Evaluation": "Dynamic", "ChangeSource": "DirectModification"},
        ],
        "BeforeContext": "{\"Properties\":{\"BucketName\":\"my-s3-bucket\"}}",
        "AfterContext": "{\"Properties\":{\"BucketName\":\"my-s3-bucket-2\"}}",
    },
}


def test_property_values_before_and_after_are_read_once_per_property():
    parsed = parse_change(DOCUMENTED)

    assert parsed["details"] == [
        {"path": "/Properties/BucketName", "name": "BucketName", "change": "Modify",
         "before": "my-s3-bucket", "after": "my-s3-bucket-2", "recreation": "Always"},
        {"path": "/Properties/Tags/0/Value", "name": "Tags", "change": "Modify",
         "before": "prod", "after": "staging", "recreation": "Never"},
        {"path": "/Properties/VersioningConfiguration", "name": "VersioningConfiguration",
         "change": "Add", "before": None, "after": "{\"Status\":\"Enabled\"}",
         "recreation": "Never"},
    ]
    assert (parsed["replacement"], parsed["action"]) == (True, "Modify")


def test_an_endpoint_that_gives_no_values_still_lists_the_changed_properties():
    # moto (and CloudFormation without IncludePropertyValues) name the property only.
    bare = {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "Release",
                               "ResourceType": "AWS::SSM::Parameter", "Replacement": "False",
                               "Details": [{"Target": {"Attribute": "Properties",
                                                       "Name": "Value",
                                                       "RequiresRecreation": "Never"}}]}}

    assert parse_change(bare)["details"] == [
        {"path": "/Properties/Value", "name": "Value", "change": "", "before": None,
         "after": None, "recreation": "Never"}]
    assert parse_change(change("Topic", "AWS::SNS::Topic", "Add"))["details"] == []


def test_a_long_value_is_cut_for_the_review():
    long = {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "Role",
                               "ResourceType": "AWS::IAM::Role", "Details": [{"Target": {
                                   "Attribute": "Properties", "Name": "Policies",
                                   "Path": "/Properties/Policies", "BeforeValue": "x" * 5000,
                                   "AfterValue": "y"}}]}}

    [detail] = parse_change(long)["details"]

    assert len(detail["before"]) == 400 and detail["before"].endswith("…")
    assert detail["after"] == "y"
