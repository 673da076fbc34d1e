"""A test app that writes what the default synthesizer writes, by hand: per stack a template
with the BootstrapVersion parameter and CheckBootstrapVersion rule, an asset manifest
(`<stack>.assets.json`) with a zipped Lambda folder, a nested stack template and the template
itself, and the bootstrap properties on the stack artifact.

Flags: --one-region (only the stack of AWS_REGION, always named Api), --image (a container
image asset), --lookup (a context lookup it could not make), --legacy (assets as parameters)."""

import hashlib
import json
import os
import sys
from pathlib import Path

from assembly import context, record_run, template

QUALIFIER = "hnb659fds"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def destination(account: str, region: str, key: str, kind: str = "file") -> dict:
    role = "file-publishing" if kind == "file" else "image-publishing"
    found = {
        "region": region,
        "assumeRoleArn": f"arn:${{AWS::Partition}}:iam::{account}:role/cdk-{QUALIFIER}-{role}-role-"
                         f"{account}-{region}",
    }
    if kind == "file":
        found.update(bucketName=f"cdk-{QUALIFIER}-assets-{account}-{region}", objectKey=key)
    else:
        found.update(repositoryName=f"cdk-{QUALIFIER}-container-assets-{account}-{region}",
                     imageTag=key)
    return {f"{account}-{region}": found}


def write_stack(outdir: Path, name: str, account: str, region: str, argv: list[str]) -> dict:
    """Writes the stack's files; returns its two manifest artifacts."""
    bucket = f"cdk-{QUALIFIER}-assets-{account}-{region}"
    code = outdir / f"asset.{digest(name + region + 'code')}"
    code.mkdir()
    (code / "index.js").write_text(f"exports.handler = async () => '{region}';\n")
    code_key = f"{code.name.removeprefix('asset.')}.zip"
    nested = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    nested_text = json.dumps(nested)
    nested_file = f"{name}Inner.nested.template.json"
    (outdir / nested_file).write_text(nested_text)
    nested_key = f"{digest(nested_text)}.json"
    body = template(region)
    body["Parameters"] = {"BootstrapVersion": {
        "Type": "AWS::SSM::Parameter::Value<String>",
        "Default": f"/cdk-bootstrap/{QUALIFIER}/version",
    }}
    body["Rules"] = {"CheckBootstrapVersion": {"Assertions": [{"Assert": {"Fn::Not": [
        {"Fn::Contains": [["1", "2", "3", "4", "5"], {"Ref": "BootstrapVersion"}]}]}}]}}
    body["Resources"]["Fn"] = {"Type": "AWS::Lambda::Function", "Properties": {
        "Code": {"S3Bucket": bucket, "S3Key": code_key}, "Handler": "index.handler"}}
    body["Resources"]["Inner"] = {"Type": "AWS::CloudFormation::Stack", "Properties": {
        "TemplateURL": {"Fn::Join": ["", [f"https://s3.{region}.", {"Ref": "AWS::URLSuffix"},
                                          f"/{bucket}/{nested_key}"]]}}}
    text = json.dumps(body)
    (outdir / f"{name}.template.json").write_text(text)
    template_key = f"{digest(text)}.json"
    files = {
        code.name.removeprefix("asset."): {
            "displayName": "Fn/Code",
            "source": {"path": code.name, "packaging": "zip"},
            "destinations": destination(account, region, code_key),
        },
        nested_key.removesuffix(".json"): {
            "displayName": "Inner Nested Stack Template",
            "source": {"path": nested_file, "packaging": "file"},
            "destinations": destination(account, region, nested_key),
        },
        template_key.removesuffix(".json"): {
            "displayName": f"{name} Template",
            "source": {"path": f"{name}.template.json", "packaging": "file"},
            "destinations": destination(account, region, template_key),
        },
    }
    images = {}
    if "--image" in argv:
        image = outdir / f"asset.{digest(name + 'image')}"
        image.mkdir()
        (image / "Dockerfile").write_text("FROM scratch\n")
        images[image.name.removeprefix("asset.")] = {
            "displayName": "Worker/Image",
            "source": {"directory": image.name},
            "destinations": destination(account, region, image.name.removeprefix("asset."),
                                        kind="image"),
        }
    assets = {"version": "48.0.0", "files": files, "dockerImages": images}
    (outdir / f"{name}.assets.json").write_text(json.dumps(assets, indent=1))
    role = f"arn:${{AWS::Partition}}:iam::{account}:role/cdk-{QUALIFIER}"
    stack = {
        "type": "aws:cloudformation:stack",
        "environment": f"aws://{account}/{region}",
        "properties": {
            "templateFile": f"{name}.template.json",
            "assumeRoleArn": f"{role}-deploy-role-{account}-{region}",
            "cloudFormationExecutionRoleArn": f"{role}-cfn-exec-role-{account}-{region}",
            "stackTemplateAssetObjectUrl": f"s3://{bucket}/{template_key}",
            "requiresBootstrapStackVersion": 6,
            "bootstrapStackVersionSsmParameter": f"/cdk-bootstrap/{QUALIFIER}/version",
            "additionalDependencies": [f"{name}.assets"],
            "tags": {"team": "payments"},
        },
        "dependencies": [f"{name}.assets"],
    }
    if "--legacy" in argv:
        stack["metadata"] = {f"/{name}/Fn/Code": [{"type": "aws:cdk:asset", "data": {
            "path": code.name, "packaging": "zip"}}]}
    return {
        f"{name}.assets": {"type": "cdk:asset-manifest", "properties": {
            "file": f"{name}.assets.json", "requiresBootstrapStackVersion": 6,
            "bootstrapStackVersionSsmParameter": f"/cdk-bootstrap/{QUALIFIER}/version"}},
        name: stack,
    }


def main(argv: list[str]) -> None:
    ctx = context()
    outdir = Path(os.environ["CDK_OUTDIR"])
    outdir.mkdir(parents=True, exist_ok=True)
    if "--one-region" in argv:
        regions, names = [os.environ["AWS_REGION"]], ["Api"]
    else:
        regions = ctx["regions"].split(",")
        names = [f"{ctx['app_name']}-{region}" for region in regions]
    record_run("bootstrapped:" + ",".join(regions))
    artifacts = {}
    for name, region in zip(names, regions, strict=True):
        artifacts.update(write_stack(outdir, name, ctx["account"], region, argv))
    manifest = {"version": "48.0.0", "artifacts": artifacts}
    if "--lookup" in argv:
        manifest["missing"] = [{"key": "hosted-zone:account=123456789012:domainName=example.com",
                                "provider": "hosted-zone", "props": {}}]
    (outdir / "manifest.json").write_text(json.dumps(manifest, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
