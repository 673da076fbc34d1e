"""Templates moto can deploy, and a template source that worker processes can import.

A worker started with DEPLOYER_TEMPLATES=tests.deployer.conftest.templates deploys these
instead of synthesizing the CDK app. DEPLOYER_TEST_FAILING_REGIONS (comma-separated) makes
those regions' templates fail at execution; DEPLOYER_TEST_RELEASE changes a value so a second
rollout has something to update."""

import os
import shlex
import shutil
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.audit import Actor
from deployer.models import Deployment, Rollout, Status
from deployer.rollouts import Templates
from regions.models import Source
from regions.services import add_region

APPS = Path(__file__).parent / "apps"
THREE = ["us-east-1", "eu-west-1", "ap-southeast-2"]


def region_template(slug: str, region: str, replicas=(), *, release: str = "1", main: bool = False,
                    fail: bool = False) -> dict:
    resources = {
        "Health": {
            "Type": "AWS::Route53::HealthCheck",
            "Properties": {"HealthCheckConfig": {
                "Type": "HTTPS", "FullyQualifiedDomainName": f"{region}.api.example.com",
                "Port": 443, "ResourcePath": "/prod/health", "RequestInterval": 30,
                "FailureThreshold": 3,
            }},
        },
        "Release": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Name": f"/{slug}/{region}/release", "Type": "String",
                           "Value": release},
        },
        "Alerts": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": f"{slug}-{region}"}},
    }
    outputs = {
        "HealthCheckId": {"Value": {"Ref": "Health"}},
        "ApiUrl": {"Value": f"https://{region}.api.example.com/prod/"},
    }
    if main:
        resources["Table"] = {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": slug,
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            },
        }
        resources["Replicas"] = {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Name": f"/{slug}/replicas", "Type": "String",
                           "Value": ",".join(replicas) or "none"},
        }
        outputs["TableName"] = {"Value": {"Ref": "Table"}}
    if fail:
        # moto refuses a method on an API that does not exist when it executes the change set.
        resources["Broken"] = {
            "Type": "AWS::ApiGateway::Method",
            "Properties": {"RestApiId": "missing", "ResourceId": "missing", "HttpMethod": "GET",
                           "AuthorizationType": "NONE"},
        }
    return {"Resources": resources, "Outputs": outputs}


def templates(application, regions, replica_regions, on_line=None, release="") -> Templates:
    failing = set(filter(None, os.environ.get("DEPLOYER_TEST_FAILING_REGIONS", "").split(",")))
    release = release or os.environ.get("DEPLOYER_TEST_RELEASE", "1")
    if on_line:
        on_line("stdout", f"test synth of {application.slug}: {', '.join(regions)}")
    stacks = {
        code: (f"{application.slug}-{code}",
               region_template(application.slug, code, replica_regions, release=release,
                               main=code == application.main_region, fail=code in failing))
        for code in regions
    }
    return Templates(key=f"test-{release}-{'-'.join(replica_regions)}", stacks=stacks,
                     lines=[])


@pytest.fixture
def make_deployment():
    """A running rollout with one deployment of `template` to `region` (not yet planned)."""

    def make(region, template, action="update_main", kind="plan"):
        rollout = Rollout.objects.create(application=region.application, kind=kind,
                                         status=Status.RUNNING, started_at=timezone.now())
        return Deployment.objects.create(
            rollout=rollout, region=region, step=0, action=action,
            stack_name=region.default_stack_name(), template=template, status=Status.QUEUED,
        )

    return make


@pytest.fixture
def apps(tmp_path):
    """A copy of the test apps, so a test may edit them; runs.log and pids land next to it."""
    folder = tmp_path / "apps"
    shutil.copytree(APPS, folder, ignore=shutil.ignore_patterns("__pycache__", "article-ts"))
    return folder


@pytest.fixture
def synth_cache(tmp_path, settings):
    settings.SYNTH_CACHE_DIR = tmp_path / "synth"
    return settings.SYNTH_CACHE_DIR


@pytest.fixture
def three_regions(application, admin_user):
    for code in THREE[1:]:
        add_region(application, code, Actor(admin_user, "cli"))
    return application


def use_app(application, apps: Path, script: str, *flags: str):
    """Make the application run one of the test apps with the control plane's Python."""
    application.source = Source.COMMAND
    application.command = shlex.join([sys.executable, script, *flags])
    application.workdir = str(apps)
    application.save()
    return application


def runs(apps: Path) -> list[str]:
    log = apps.parent / "runs.log"
    return log.read_text().split() if log.exists() else []
