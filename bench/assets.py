"""Benchmark of asset publishing: the toolkit's publisher (deployer/toolkit) run by
`deployer.assets.publish` against a moto server.

    .venv/bin/python bench/assets.py [--regions 3] [--size-mb 5] [--rounds 3]

Writes one cloud assembly with a stack per region, each with a file asset of --size-mb MB of
random bytes (random, so nothing compresses it away) and its template, in the layout the
default synthesizer writes (`<stack>.assets.json`). For each region it creates the bucket the
manifest names, then times a first publish (uploads the file and the template), a re-publish
with nothing changed (uploads nothing), and, as a baseline, one boto3 put_object of the same
bytes to the same moto. The fastest of --rounds rounds counts; each round starts on an empty
moto server. Needs no database: the application is an unsaved model instance.
"""

import argparse
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1",
           "ap-northeast-1", "sa-east-1", "ca-central-1"]
ACCOUNT = "123456789012"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--regions", type=int, default=3)
    parser.add_argument("--size-mb", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    return parser.parse_args()


def write_assembly(outdir: Path, regions: list[str], size: int) -> None:
    """The files the default synthesizer writes for one stack per region."""
    payload = os.urandom(size)
    key = hashlib.sha256(payload).hexdigest()
    artifacts = {}
    for region in regions:
        name = f"bench-{region}"
        bucket = f"cdk-hnb659fds-assets-{ACCOUNT}-{region}"
        role = f"arn:${{AWS::Partition}}:iam::{ACCOUNT}:role/cdk-hnb659fds"
        (outdir / f"asset.{key}.bin").write_bytes(payload)
        template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                    "Metadata": {"Payload": f"s3://{bucket}/{key}.bin"}}
        text = json.dumps(template)
        (outdir / f"{name}.template.json").write_text(text)
        template_key = hashlib.sha256(text.encode()).hexdigest() + ".json"
        destination = {"region": region, "bucketName": bucket,
                       "assumeRoleArn": f"{role}-file-publishing-role-{ACCOUNT}-{region}"}
        files = {
            key: {"displayName": "Payload", "source": {"path": f"asset.{key}.bin",
                                                        "packaging": "file"},
                  "destinations": {region: {**destination, "objectKey": f"{key}.bin"}}},
            template_key[:-5]: {"displayName": f"{name} Template",
                                "source": {"path": f"{name}.template.json", "packaging": "file"},
                                "destinations": {region: {**destination,
                                                          "objectKey": template_key}}},
        }
        (outdir / f"{name}.assets.json").write_text(json.dumps(
            {"version": "48.0.0", "files": files, "dockerImages": {}}))
        artifacts[f"{name}.assets"] = {"type": "cdk:asset-manifest",
                                       "properties": {"file": f"{name}.assets.json"}}
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "environment": f"aws://{ACCOUNT}/{region}",
            "properties": {
                "templateFile": f"{name}.template.json",
                "stackTemplateAssetObjectUrl": f"s3://{bucket}/{template_key}",
                "assumeRoleArn": f"{role}-deploy-role-{ACCOUNT}-{region}",
                "requiresBootstrapStackVersion": 6,
                "bootstrapStackVersionSsmParameter": "/cdk-bootstrap/hnb659fds/version",
            },
            "dependencies": [f"{name}.assets"],
        }
    (outdir / "manifest.json").write_text(json.dumps({"version": "48.0.0",
                                                      "artifacts": artifacts}))


def main() -> None:
    args = parse_args()
    regions = REGIONS[:args.regions]
    work = Path(tempfile.mkdtemp(prefix="meridian-bench-assets-"))
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "controlplane.settings",
        "SECRET_KEY": "bench-only-secret-key-not-for-production",
        "MERIDIAN_VAR_DIR": str(work / "var"),
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    })
    from tests.fixtures.moto import free_port, reset_moto, start_moto

    port = free_port()
    moto = start_moto(port)
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
    try:
        import django

        django.setup()
        from deployer import toolkit
        from deployer.assets import publish
        from deployer.synth.assembly import read_artifact, stacks_by_region
        from lib.aws import client
        from regions.models import Application

        toolkit.install(quiet=True)
        outdir = work / "assembly"
        outdir.mkdir()
        size = int(args.size_mb * 1024 * 1024)
        write_assembly(outdir, regions, size)
        found = stacks_by_region(outdir, regions, regions[0])
        stacks = {r: read_artifact(r, found[r], ACCOUNT) for r in regions}
        application = Application(slug="bench", main_region=regions[0], account_id=ACCOUNT)
        payload = (outdir / stacks[regions[0]].needs.files[0].source).read_bytes()

        rows = {r: {"first": [], "again": [], "boto3": [], "uploaded": 0, "found": 0}
                for r in regions}
        for _ in range(args.rounds):
            reset_moto(os.environ["AWS_ENDPOINT_URL"])
            for region in regions:
                s3 = client("s3", region)
                bucket = f"cdk-hnb659fds-assets-{ACCOUNT}-{region}"
                options = {} if region == "us-east-1" else {
                    "CreateBucketConfiguration": {"LocationConstraint": region}}
                s3.create_bucket(Bucket=bucket, **options)
                first = publish(outdir, stacks[region], region, application)
                again = publish(outdir, stacks[region], region, application)
                started = time.monotonic()
                s3.put_object(Bucket=bucket, Key="baseline.bin", Body=payload)
                row = rows[region]
                row["boto3"].append(time.monotonic() - started)
                row["first"].append(first.elapsed)
                row["again"].append(again.elapsed)
                row["uploaded"] = len(first.uploaded)
                row["found"] = len(again.found)
                if again.uploaded:
                    raise SystemExit(f"the re-publish in {region} uploaded {again.uploaded}")

        print(f"{args.size_mb:g} MB file asset + template, {len(regions)} regions, "
              f"fastest of {args.rounds} rounds")
        print(f"{'region':<16}{'first s':>9}{'again s':>9}{'boto3 s':>9}  uploaded / found again")
        for region, row in rows.items():
            print(f"{region:<16}{min(row['first']):>9.2f}{min(row['again']):>9.2f}"
                  f"{min(row['boto3']):>9.2f}  {row['uploaded']} / {row['found']}")
        again_all = [t for row in rows.values() for t in row["again"]]
        print(f"re-publish, every run: median {statistics.median(again_all):.2f} s, "
              f"max {max(again_all):.2f} s")
    finally:
        moto.terminate()
        moto.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
