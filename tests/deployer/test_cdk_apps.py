"""Real CDK apps as operators write them: a TypeScript app written like the original article's
(one stack per run, `npx ts-node`, the default synthesizer, Lambda code, nested stacks) and a
Python app whose templates are too large for a TemplateBody; synthesized, read and published
to a moto server.

The TypeScript app's packages come from the npm registry, installed once per lockfile under
var/test-node-apps/ and linked into each test's copy of the app."""

import hashlib
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from deployer import rollouts, runs, toolkit
from deployer.assets import publish
from deployer.cloudformation import Engine
from deployer.models import Status
from deployer.node import node_bin_dir
from deployer.outputs import find_health_check
from deployer.runs import REGION_STACKS
from deployer.synth import SynthError, synth_application
from deployer.synth.needs import TEMPLATE_BODY_LIMIT
from lib.aws import client
from regions.models import Application, RegionState, Source
from tests.conftest import APP_DATA
from tests.deployer.conftest import APPS, THREE

ARTICLE = APPS / "article-ts"
ARTICLE_COMMAND = "npx ts-node --prefer-ts-exts bin/app.ts"


def command_app(command: str, workdir: Path) -> Application:
    """An application (not saved: synth and publish need no database) running `command`."""
    return Application(**APP_DATA, source=Source.COMMAND, command=command, workdir=str(workdir))


def node_packages(source: Path) -> Path:
    """node_modules for the app's lockfile, installed from the registry once and kept."""
    lockfile = source / "package-lock.json"
    digest = hashlib.sha256(lockfile.read_bytes()).hexdigest()[:16]
    kept = Path(settings.VAR_DIR) / "test-node-apps" / f"{source.name}-{digest}"
    if (kept / "node_modules" / ".complete").is_file():
        return kept / "node_modules"
    staging = kept.with_name(f".{kept.name}-{uuid.uuid4().hex}")
    staging.mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(source / name, staging / name)
    subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund",
                    "--loglevel=error"], cwd=staging, check=True, timeout=900,
                   env={**os.environ, "PATH": f"{node_bin_dir()}:{os.environ['PATH']}"})
    (staging / "node_modules" / ".complete").touch()
    try:
        staging.rename(kept)
    except OSError:  # another run kept the same lockfile's packages first
        shutil.rmtree(staging, ignore_errors=True)
    return kept / "node_modules"


@pytest.fixture(scope="module")
def article(tmp_path_factory):
    """A copy of the TypeScript app with its packages linked in."""
    folder = tmp_path_factory.mktemp("article") / "article-ts"
    shutil.copytree(ARTICLE, folder)
    (folder / "node_modules").symlink_to(node_packages(ARTICLE))
    return folder


@pytest.fixture(scope="module")
def article_synth(article, tmp_path_factory):
    with override_settings(SYNTH_CACHE_DIR=tmp_path_factory.mktemp("article-synth")):
        return synth_application(command_app(ARTICLE_COMMAND, article), regions=THREE)


@pytest.fixture(scope="module")
def large_synth(tmp_path_factory):
    folder = tmp_path_factory.mktemp("large")
    shutil.copytree(APPS, folder / "apps", ignore=shutil.ignore_patterns("article-ts", "__py*"))
    app = command_app(shlex.join([sys.executable, "large_template.py"]), folder / "apps")
    with override_settings(SYNTH_CACHE_DIR=folder / "synth"):
        return synth_application(app, regions=THREE)


@pytest.fixture(scope="module", autouse=True)
def publisher():
    toolkit.install(quiet=True)


def make_bucket(region: str) -> str:
    bucket = f"cdk-hnb659fds-assets-123456789012-{region}"
    options = {} if region == "us-east-1" else {
        "CreateBucketConfiguration": {"LocationConstraint": region}}
    client("s3", region).create_bucket(Bucket=bucket, **options)
    return bucket


def stored(region: str, bucket: str) -> dict[str, bytes]:
    s3 = client("s3", region)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


# The TypeScript app, one stack per run


@pytest.mark.slow
def test_the_article_app_synthesizes_three_regions_each_with_its_whole_assembly(article_synth):
    result = article_synth
    assert sorted(result.stacks) == sorted(THREE)
    for region, stack in result.stacks.items():
        folder = result.outdir if region == THREE[0] else result.outdir / f"assembly-{region}"
        assert stack.stack_name == "MultiRegionApiStack"
        assert stack.environment == f"aws://123456789012/{region}"
        assert "HealthCheckId" not in stack.outputs
        assert stack.needs.asset_manifests == (folder / "MultiRegionApiStack.assets.json",)
        for asset in stack.needs.files:
            assert (folder / asset.source).exists(), asset.display_name
            assert [d.region for d in asset.destinations] == [region]
        assert {a.display_name for a in stack.needs.files} >= {
            "Writer/Code", "Certificate/CertificateRequestorFunction/Code",
            "Alerts Nested Stack Template", "MultiRegionApiStack Template"}
        bootstrap = stack.needs.bootstrap
        assert bootstrap.required_version >= 6
        assert bootstrap.version_parameter == "/cdk-bootstrap/hnb659fds/version"
        assert bootstrap.deploy_role_arn == (
            f"arn:aws:iam::123456789012:role/cdk-hnb659fds-deploy-role-123456789012-{region}")
        assert bootstrap.execution_role_arn.endswith(f"cfn-exec-role-123456789012-{region}")
        assert bootstrap.template_url.startswith(f"s3://cdk-hnb659fds-assets-123456789012-{region}/")
        assert "CheckBootstrapVersion" in stack.template["Rules"]
    # Only the main region owns the table, whose replicas a nested stack's functions manage.
    nested = {region: sorted(n.path for n in s.needs.nested) for region, s in result.stacks.items()}
    assert len(nested["us-east-1"]) == 2 and any("ReplicaProvider" in p for p in nested["us-east-1"])
    assert [p.startswith("Alerts") for p in nested["eu-west-1"]] == [True]
    assert [line for _, line in result.lines if line.startswith("[eu-west-1] ")]


@pytest.mark.slow
def test_the_article_apps_health_check_is_the_one_its_latency_record_uses(article_synth):
    stack = article_synth.stacks["eu-west-1"]
    resources = [{"LogicalResourceId": logical_id, "ResourceType": resource["Type"],
                  "PhysicalResourceId": f"id-{logical_id}", "ResourceStatus": "CREATE_COMPLETE"}
                 for logical_id, resource in stack.template["Resources"].items()]
    found = find_health_check(stack.stack_name, resources, stack.template)
    assert found.startswith("id-HealthCheck")


@pytest.mark.slow
def test_the_article_apps_assets_are_published_to_the_main_region(aws, article_synth):
    stack = article_synth.stacks["us-east-1"]
    bucket = make_bucket("us-east-1")
    app = Application(**APP_DATA)
    first = publish(article_synth.outdir, stack, "us-east-1", app)
    objects = stored("us-east-1", bucket)
    assert sorted(objects) == sorted(d.name for a in stack.needs.files for d in a.destinations)
    writer = next(a for a in stack.needs.files if a.display_name == "Writer/Code")
    with zipfile.ZipFile(io.BytesIO(objects[writer.destinations[0].name])) as zipped:
        assert zipped.namelist() == ["index.js"]
    assert len(first.uploaded) == len(objects)
    again = publish(article_synth.outdir, stack, "us-east-1", app)
    assert again.uploaded == [] and len(again.found) == len(objects)


@pytest.mark.slow
def test_a_type_error_in_a_typescript_app_is_shown_with_its_error_ts_line(article, tmp_path):
    with override_settings(SYNTH_CACHE_DIR=tmp_path / "synth"), pytest.raises(SynthError) as c:
        synth_application(command_app("npx ts-node --prefer-ts-exts bin/broken.ts", article),
                          regions=THREE)
    message = str(c.value)
    assert c.value.kind == "app_failed"
    assert "First error:\n  TSError: ⨯ Unable to compile TypeScript:\n  bin/broken.ts(2,7): " \
           "error TS2322: Type 'string' is not assignable to type 'number'." in message


# The Python app whose templates are too large for a TemplateBody


def test_a_large_template_is_an_asset_of_its_own_and_published_whole(aws, large_synth):
    stack = large_synth.stacks["eu-west-1"]
    assert stack.template_bytes > TEMPLATE_BODY_LIMIT
    assert stack.needs_template_url
    [nested] = stack.needs.nested
    assert nested.path.startswith("SettingsNestedStackSettingsNestedStackResource")
    assert json.loads(nested.template_path.read_text())["Resources"]
    bucket = make_bucket("eu-west-1")

    published = publish(large_synth.outdir, stack, "eu-west-1", Application(**APP_DATA))

    key = stack.needs.bootstrap.template_url.removeprefix(f"s3://{bucket}/")
    objects = stored("eu-west-1", bucket)
    assert objects[key] == stack.template_path.read_bytes()
    assert json.loads(objects[key])["Resources"] == stack.template["Resources"]
    assert published.template_url == f"https://s3.eu-west-1.amazonaws.com/{bucket}/{key}"
    assert len(objects) == 3  # the function's code, the nested template, the template
    assert publish(large_synth.outdir, stack, "eu-west-1", Application(**APP_DATA)).uploaded == []


# Planned and deployed by the control plane, in the sandbox (which bootstraps each region)


def plan_and_record(rollout, monkeypatch) -> list[dict]:
    """Plan in this process as the deploys worker would; the CreateChangeSet requests made."""
    sent = []
    original = Engine.call

    def recording(engine, operation, **kwargs):
        if operation == "create_change_set":
            sent.append(kwargs)
        return original(engine, operation, **kwargs)

    monkeypatch.setattr(Engine, "call", recording)
    rollouts.plan_rollout(rollout.pk)
    for d in rollout.deployments.filter(status=Status.QUEUED):
        runs.plan_deployment(d.pk)
    rollout.refresh_from_db()
    return sent


def deployed_like(application, command: str, workdir: Path, settings, cache: Path):
    """The inventory's application running `command`, its regions deployed, in the sandbox."""
    settings.SANDBOX = True
    settings.SYNTH_CACHE_DIR = cache  # the module's synth: the same inputs find it there
    application.source, application.command = Source.COMMAND, command
    application.workdir = str(workdir)
    application.save()
    application.regions.update(state=RegionState.ACTIVE)
    return application


@pytest.mark.slow
def test_the_article_apps_plan_publishes_each_regions_assets_to_its_bootstrap_bucket(
        aws, three_regions, operator, article, article_synth, settings, monkeypatch):
    app = deployed_like(three_regions, ARTICLE_COMMAND, article, settings,
                        article_synth.outdir.parent.parent)

    plan = rollouts.start_plan(app, operator)
    sent = plan_and_record(plan, monkeypatch)

    assert plan.status == Status.PLANNED, plan.explanation
    # The regional stacks come from the module's synth; the main region's step has its own.
    assert plan.deployments.filter(synth_key=article_synth.key).count() == 2
    for region, stack in article_synth.stacks.items():
        bucket = f"cdk-hnb659fds-assets-123456789012-{region}"
        assert sorted(stored(region, bucket)) == sorted(
            d.name for a in stack.needs.files for d in a.destinations)
        step = plan.deployments.get(region__code=region, action__in=REGION_STACKS)
        [request] = [r for r in sent if r["StackName"] == stack.stack_name
                     and r["TemplateURL"].startswith(f"https://s3.{region}.")]
        assert request["TemplateURL"] == stack.needs.bootstrap.template_https_url(region)
        assert "TemplateBody" not in request and request["IncludeNestedStacks"] is True
        assert request["RoleARN"] == stack.needs.bootstrap.execution_role_arn
        # moto makes no nested change sets: the review shows each nested stack as one change.
        nested = {c["logical_id"] for c in step.changes
                  if c["type"] == "AWS::CloudFormation::Stack"}
        assert {path.split("/")[0] for path in step.needs["nested"]} == nested
    assert plan.deployments.filter(action="bootstrap", status=Status.SUCCEEDED).count() == 3

    # Planned again: every asset is there already, every region bootstrapped.
    rollouts.end(plan, Status.CANCELLED, "replaced", from_statuses=(Status.PLANNED,))
    again = rollouts.start_plan(app, operator)
    plan_and_record(again, monkeypatch)
    assert again.status == Status.PLANNED, again.explanation
    assert not again.deployments.filter(action="bootstrap").exists()
    for step in again.deployments.all():
        assert step.events.filter(message__regex=r"^Assets published: 0 uploaded, \d+ already").exists()


def test_the_python_apps_large_templates_go_by_url_and_deploy_with_their_nested_stacks(
        aws, three_regions, operator, large_synth, settings, monkeypatch):
    folder = large_synth.outdir.parent.parent.parent / "apps"
    app = deployed_like(three_regions, shlex.join([sys.executable, "large_template.py"]), folder,
                        settings, large_synth.outdir.parent.parent)

    plan = rollouts.start_plan(app, operator)
    sent = plan_and_record(plan, monkeypatch)

    assert plan.status == Status.PLANNED, plan.explanation
    # The regional stacks come from the module's synth; the main region's step has its own.
    assert plan.deployments.filter(synth_key=large_synth.key).count() == 2
    for request in [r for r in sent if r["StackName"] != "CDKToolkit"]:
        region = request["StackName"].removeprefix("orders-")
        stack = large_synth.stacks[region]
        assert stack.template_bytes > TEMPLATE_BODY_LIMIT
        assert request["TemplateURL"] == stack.needs.bootstrap.template_https_url(region)
        assert request["IncludeNestedStacks"] is True

    applied = rollouts.apply(plan, operator)
    while (queued := applied.deployments.filter(status=Status.QUEUED).first()) is not None:
        runs.run_deployment(queued.pk)
    applied.refresh_from_db()

    assert applied.status == Status.SUCCEEDED, applied.explanation
    for region in three_regions.regions.all():
        # No HealthCheckId output: the health check is found among the stack's resources.
        [check] = [c for c in client("route53", "us-east-1").list_health_checks()["HealthChecks"]
                   if c["HealthCheckConfig"]["FullyQualifiedDomainName"]
                   == f"{region.code}.api.example.com"]
        assert (region.state, region.health_check_id) == (RegionState.ACTIVE, check["Id"])
        ssm = client("ssm", region.code)
        assert ssm.get_parameter(Name=f"/orders/{region.code}/s119")["Parameter"]["Value"] == (
            "value 119")
        assert [f["Handler"] for f in client("lambda", region.code).list_functions()[
            "Functions"]] == ["index.handler"]
        # The nested stack was created from the template published beside the stack's.
        assert ssm.get_parameter(Name=f"/orders/{region.code}/nested")["Parameter"]["Value"] == (
            "nested")
