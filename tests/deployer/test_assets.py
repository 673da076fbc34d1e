"""Publishing a stack's assets with the CDK toolkit's publishing library to a moto server.

moto does not bootstrap: each test creates the bucket the asset manifest names. moto accepts
AssumeRole for roles that do not exist, so the default synthesizer's file-publishing role
(cdk-hnb659fds-file-publishing-role-…) is assumed without a bootstrap stack."""

import io
import zipfile

import pytest

from deployer import toolkit
from deployer.assets import AssetError, publish
from deployer.synth import synth_application
from lib.aws import client
from tests.deployer.conftest import THREE, use_app

BUCKET = "cdk-hnb659fds-assets-123456789012-{}"
SENTINEL = b"left here by the test, not by the publisher" * 2


@pytest.fixture(scope="session", autouse=True)
def publisher():
    toolkit.install(quiet=True)  # nothing to do when `make` installed it


@pytest.fixture(autouse=True)
def cache_dir(synth_cache):
    return synth_cache


@pytest.fixture
def synthesized(three_regions, apps):
    use_app(three_regions, apps, "bootstrapped.py")
    return synth_application(three_regions)


def objects(region: str) -> dict[str, bytes]:
    s3 = client("s3", region)
    listed = s3.list_objects_v2(Bucket=BUCKET.format(region)).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=BUCKET.format(region), Key=o["Key"])["Body"].read()
            for o in listed}


def make_bucket(region: str) -> None:
    s3 = client("s3", region)
    options = {} if region == "us-east-1" else {
        "CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=BUCKET.format(region), **options)


def test_the_assets_are_published_under_their_hashes_in_the_bucket_the_manifest_names(
    aws, synthesized, three_regions
):
    make_bucket("eu-west-1")
    stack = synthesized.stacks["eu-west-1"]
    lines = []
    published = publish(synthesized.outdir, stack, "eu-west-1", three_regions,
                        on_line=lambda stream, line: lines.append(line))

    stored = objects("eu-west-1")
    code, nested, template = stack.needs.files
    assert sorted(stored) == sorted(f.destinations[0].name for f in stack.needs.files)
    assert sorted(published.uploaded) == sorted(url for f in stack.needs.files
                                                for url in f.urls("eu-west-1"))
    assert published.found == []
    assert stored[template.destinations[0].name] == stack.template_path.read_bytes()
    assert stored[nested.destinations[0].name] == stack.needs.nested[0].template_path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(stored[code.destinations[0].name])) as zipped:
        assert zipped.read("index.js") == b"exports.handler = async () => 'eu-west-1';\n"
    assert published.template_url == stack.needs.bootstrap.template_https_url("eu-west-1")
    assert any("upload: Upload s3://" in line for line in lines)
    assert objects_in_other_regions_are_untouched()


def objects_in_other_regions_are_untouched() -> bool:
    buckets = {b["Name"] for b in client("s3", "us-east-1").list_buckets()["Buckets"]}
    return buckets == {BUCKET.format("eu-west-1")}


def test_publishing_again_uploads_nothing(aws, synthesized, three_regions):
    make_bucket("us-east-1")
    stack = synthesized.stacks["us-east-1"]
    publish(synthesized.outdir, stack, "us-east-1", three_regions)
    # Replace what was uploaded: a second upload would put the asset back.
    s3 = client("s3", "us-east-1")
    for key in objects("us-east-1"):
        s3.put_object(Bucket=BUCKET.format("us-east-1"), Key=key, Body=SENTINEL)

    again = publish(synthesized.outdir, stack, "us-east-1", three_regions)

    assert again.uploaded == []
    assert len(again.found) == 3
    assert set(objects("us-east-1").values()) == {SENTINEL}


def test_each_region_of_a_one_region_app_publishes_its_own_assembly(aws, three_regions, apps):
    use_app(three_regions, apps, "bootstrapped.py", "--one-region")
    result = synth_application(three_regions)
    for region in THREE:
        make_bucket(region)
        published = publish(result.outdir, result.stacks[region], region, three_regions)
        assert len(published.uploaded) == 3
        code = result.stacks[region].needs.files[0].destinations[0].name
        with zipfile.ZipFile(io.BytesIO(objects(region)[code])) as zipped:
            assert region.encode() in zipped.read("index.js")


def test_an_application_with_a_role_publishes_with_the_assumed_role(aws, synthesized,
                                                                    three_regions):
    three_regions.role_arn = "arn:aws:iam::123456789012:role/meridian-deployer"
    three_regions.save()
    make_bucket("ap-southeast-2")
    published = publish(synthesized.outdir, synthesized.stacks["ap-southeast-2"],
                        "ap-southeast-2", three_regions)
    assert len(published.uploaded) == 3


def test_moto_lets_the_unbootstrapped_publishing_role_be_assumed(aws):
    role = "arn:aws:iam::123456789012:role/cdk-hnb659fds-file-publishing-role-123456789012-eu-west-1"
    answer = client("sts", "eu-west-1").assume_role(RoleArn=role, RoleSessionName="test")
    assert answer["AssumedRoleUser"]["Arn"].startswith(
        "arn:aws:sts::123456789012:assumed-role/cdk-hnb659fds-file-publishing-role-")


def test_a_missing_bucket_fails_the_publish_asking_whether_the_account_is_bootstrapped(
    aws, synthesized, three_regions
):
    with pytest.raises(AssetError) as caught:
        publish(synthesized.outdir, synthesized.stacks["eu-west-1"], "eu-west-1", three_regions)
    error = caught.value
    assert error.kind == "app_failed" and not error.retryable
    assert str(error).startswith(
        "The asset publisher of stack orders-eu-west-1 exited with code 1 while "
        "publishing to region eu-west-1")
    assert ("No bucket named 'cdk-hnb659fds-assets-123456789012-eu-west-1'. Is account "
            "123456789012 bootstrapped?") in str(error)


def test_a_stack_without_assets_publishes_nothing_and_starts_nothing(
    aws, three_regions, apps, settings
):
    use_app(three_regions, apps, "all_regions.py")
    result = synth_application(three_regions)
    published = publish(result.outdir, result.stacks["eu-west-1"], "eu-west-1", three_regions)
    assert (published.uploaded, published.found, published.lines) == ([], [], [])
    assert published.template_url == ""


def test_container_images_without_a_docker_daemon_fail_the_publish_naming_the_image(
    aws, three_regions, apps, tmp_path, monkeypatch
):
    # The Docker client's own answer when no daemon runs, from a stand-in client.
    docker = tmp_path / "docker"
    docker.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon at "
                      "unix:///var/run/docker.sock. Is the docker daemon running?' >&2\nexit 1\n")
    docker.chmod(0o755)
    monkeypatch.setenv("CDK_DOCKER", str(docker))
    use_app(three_regions, apps, "bootstrapped.py", "--image")
    result = synth_application(three_regions)
    make_bucket("us-east-1")
    stack = result.stacks["us-east-1"]
    with pytest.raises(AssetError) as caught:
        publish(result.outdir, stack, "us-east-1", three_regions)
    image = stack.needs.images[0]
    assert caught.value.kind == "docker"
    assert str(caught.value) == (
        "Stack orders-us-east-1 (region us-east-1) has container image assets that need Docker "
        f"to build: Worker/Image ({image.urls('us-east-1')[0]}); no Docker daemon answers "
        "(Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker "
        "daemon running?). Run the deploy worker where Docker runs (DOCKER_HOST and CDK_DOCKER "
        "are passed to the publisher), or use file assets.")
    assert objects("us-east-1") == {}


def test_a_docker_client_that_is_not_there_is_named(aws, three_regions, apps, monkeypatch):
    monkeypatch.setenv("CDK_DOCKER", "/nowhere/docker")
    use_app(three_regions, apps, "bootstrapped.py", "--image")
    result = synth_application(three_regions)
    with pytest.raises(AssetError, match="there is no /nowhere/docker command"):
        publish(result.outdir, result.stacks["us-east-1"], "us-east-1", three_regions)


def test_publishing_a_stack_to_a_region_its_assets_are_not_for_is_refused(
    aws, synthesized, three_regions
):
    with pytest.raises(AssetError) as caught:
        publish(synthesized.outdir, synthesized.stacks["eu-west-1"], "us-east-1", three_regions)
    assert caught.value.kind == "input"
    assert str(caught.value) == (
        "Stack orders-eu-west-1 publishes its assets to eu-west-1, not to us-east-1.")


def test_a_publisher_past_its_time_is_stopped_and_says_which_setting_sets_the_limit(
    aws, synthesized, three_regions
):
    make_bucket("eu-west-1")
    with pytest.raises(AssetError) as caught:
        publish(synthesized.outdir, synthesized.stacks["eu-west-1"], "eu-west-1", three_regions,
                timeout=0.05)
    assert caught.value.kind == "timeout" and caught.value.retryable
    assert str(caught.value) == (
        "The asset publisher of stack orders-eu-west-1 did not finish publishing to region "
        "eu-west-1 within 0.05 s and was stopped (ASSETS_TIMEOUT sets the limit).")
