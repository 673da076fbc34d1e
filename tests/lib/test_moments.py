"""Moments in time and AWS console links, as every page renders them."""


def test_a_moment_is_utc_in_the_page_and_marked_for_the_viewers_time_zone():
    from datetime import UTC, datetime, timedelta, timezone

    from lib.moments import moment

    at = datetime(2026, 11, 30, 19, 26, 36, tzinfo=timezone(timedelta(hours=1)))
    html = str(moment(at, "time"))
    assert html == ('<time datetime="2026-11-30T18:26:36+00:00" data-kind="time" '
                    'title="2026-11-30 18:26:36 UTC">18:26 UTC</time>')
    assert moment(None) == ""
    assert "2026-11-30 18:26:36 UTC</time>" in str(moment(at.astimezone(UTC), "seconds"))


def test_console_links_point_at_the_resource_and_are_absent_in_the_sandbox(settings):
    from lib.moments import console, console_url

    settings.SANDBOX = False
    assert console_url("stack", "eu-west-1", "arn:aws:cloudformation:eu-west-1:1:stack/a/b") == (
        "https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1"
        "#/stacks/stackinfo?stackId=arn%3Aaws%3Acloudformation%3Aeu-west-1%3A1%3Astack%2Fa%2Fb")
    assert console_url("health_check", "eu-west-1", "hc-1").startswith(
        "https://us-east-1.console.aws.amazon.com/route53/healthchecks/")
    assert 'href="https://eu-west-1.console.aws.amazon.com/dynamodbv2/' in str(
        console("table", "eu-west-1", "orders"))
    settings.SANDBOX = True
    assert console_url("table", "eu-west-1", "orders") == ""
    assert "href" not in str(console("table", "eu-west-1", "orders"))
    assert console("table", "eu-west-1", "") == "—"


def test_a_change_set_links_to_its_changes_in_the_console_and_not_in_the_sandbox(settings):
    from lib.moments import change_set_url, console_change_set

    arn = "arn:aws:cloudformation:eu-west-1:123456789012:changeSet/meridian-7-1-ab/0f1e"
    settings.SANDBOX = False
    assert change_set_url("eu-west-1", "orders-eu-west-1", arn) == (
        "https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1"
        "#/stacks/changesets/changes?stackId=orders-eu-west-1&changeSetId="
        "arn%3Aaws%3Acloudformation%3Aeu-west-1%3A123456789012%3AchangeSet%2Fmeridian-7-1-ab"
        "%2F0f1e")
    assert ">meridian-7-1-ab</a>" in str(
        console_change_set("eu-west-1", "orders-eu-west-1", arn, "meridian-7-1-ab"))
    assert change_set_url("eu-west-1", "orders-eu-west-1", "") == ""
    settings.SANDBOX = True
    assert change_set_url("eu-west-1", "orders-eu-west-1", arn) == ""
    assert str(console_change_set("eu-west-1", "orders-eu-west-1", arn, "meridian-7-1-ab")) == (
        '<span class="mono">meridian-7-1-ab</span>')
