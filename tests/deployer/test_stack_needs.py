"""What a synthesized stack needs besides its template: assets, bootstrap, nested stacks, read
from assemblies written the way the default synthesizer writes them."""

import json

import pytest

from deployer.synth import SynthError, synth_application
from deployer.synth.needs import partition, resolve
from tests.deployer.conftest import THREE, use_app

ROLE = "arn:aws:iam::123456789012:role/cdk-hnb659fds"


@pytest.fixture(autouse=True)
def cache_dir(synth_cache):
    return synth_cache


def assert_whole(stack) -> None:
    """Every file the stack's asset manifests name is in the assembly, beside the manifest."""
    for manifest in stack.needs.asset_manifests:
        assert manifest.is_file()
        entries = json.loads(manifest.read_text())
        for asset in entries.get("files", {}).values():
            assert (manifest.parent / asset["source"]["path"]).exists()
        for image in entries.get("dockerImages", {}).values():
            assert (manifest.parent / image["source"]["directory"]).is_dir()


def test_a_stack_of_the_default_synthesizer_is_read_with_its_assets_and_bootstrap(
    three_regions, apps
):
    use_app(three_regions, apps, "bootstrapped.py")
    result = synth_application(three_regions)

    stack = result.stacks["eu-west-1"]
    needs = stack.needs
    assert needs.asset_manifests == (result.outdir / "orders-eu-west-1.assets.json",)
    assert_whole(stack)
    assert [asset.display_name for asset in needs.files] == [
        "Fn/Code", "Inner Nested Stack Template", "orders-eu-west-1 Template"]
    code = needs.files[0]
    assert code.packaging == "zip" and code.source.startswith("asset.")
    [destination] = code.destinations
    assert destination.region == "eu-west-1"
    assert destination.location == "cdk-hnb659fds-assets-123456789012-eu-west-1"
    assert destination.name == code.source.removeprefix("asset.") + ".zip"
    assert destination.role_arn == (
        f"{ROLE}-file-publishing-role-123456789012-eu-west-1")
    assert needs.images == []
    assert needs.bootstrap.required_version == 6
    assert needs.bootstrap.version_parameter == "/cdk-bootstrap/hnb659fds/version"
    assert needs.bootstrap.deploy_role_arn == f"{ROLE}-deploy-role-123456789012-eu-west-1"
    assert needs.bootstrap.execution_role_arn == (
        f"{ROLE}-cfn-exec-role-123456789012-eu-west-1")
    template_url = needs.files[2].urls("eu-west-1")[0]
    assert needs.bootstrap.template_url == template_url
    assert needs.bootstrap.template_https_url("eu-west-1") == (
        "https://s3.eu-west-1.amazonaws.com/" + template_url.removeprefix("s3://"))
    assert needs.tags == {"team": "payments"}
    assert "BootstrapVersion" in stack.template["Parameters"]
    assert "CheckBootstrapVersion" in stack.template["Rules"]


def test_a_nested_stack_is_found_by_the_asset_its_template_url_names(three_regions, apps):
    use_app(three_regions, apps, "bootstrapped.py")
    result = synth_application(three_regions)

    [nested] = result.stacks["ap-southeast-2"].needs.nested
    assert nested.path == "Inner"
    assert nested.template_path == result.outdir / "orders-ap-southeast-2Inner.nested.template.json"
    assert json.loads(nested.template_path.read_text())["Resources"]["Topic"]
    assert nested.asset_id == result.stacks["ap-southeast-2"].needs.files[1].id


def test_the_merge_of_one_region_runs_keeps_each_regions_assets_beside_their_manifest(
    three_regions, apps
):
    use_app(three_regions, apps, "bootstrapped.py", "--one-region")
    result = synth_application(three_regions)

    for region in THREE:
        stack = result.stacks[region]
        folder = result.outdir if region == "us-east-1" else result.outdir / f"assembly-{region}"
        assert stack.needs.asset_manifests == (folder / "Api.assets.json",)
        assert_whole(stack)
        assert len(list(folder.glob("asset.*"))) == 1
        assert {d.region for asset in stack.needs.assets for d in asset.destinations} == {region}
        assert stack.needs.bootstrap.deploy_role_arn.endswith(f"-deploy-role-123456789012-{region}")
        assert stack.needs.nested[0].template_path.parent == folder
    again = synth_application(three_regions)
    assert again.cached and again.stacks == result.stacks


def test_a_cached_synth_gives_the_same_needs(three_regions, apps):
    use_app(three_regions, apps, "bootstrapped.py")
    first = synth_application(three_regions)
    second = synth_application(three_regions)
    assert second.cached
    assert second.stacks == first.stacks
    assert second.stacks["us-east-1"].needs.bootstrap.required_version == 6


def test_a_container_image_asset_is_listed_with_its_repository(three_regions, apps):
    use_app(three_regions, apps, "bootstrapped.py", "--image")
    result = synth_application(three_regions)

    [image] = result.stacks["us-east-1"].needs.images
    assert image.kind == "image"
    assert image.display_name == "Worker/Image"
    assert image.packaging == "Dockerfile"
    assert image.urls("us-east-1") == [
        f"cdk-hnb659fds-container-assets-123456789012-us-east-1:{image.id}"]


def test_context_lookups_the_app_could_not_make_are_a_contract_error(three_regions, apps):
    use_app(three_regions, apps, "bootstrapped.py", "--lookup")
    with pytest.raises(SynthError) as caught:
        synth_application(three_regions)
    assert caught.value.kind == "contract"
    assert "hosted-zone:account=123456789012:domainName=example.com" in str(caught.value)


def test_assets_passed_as_parameters_are_a_contract_error_naming_them(three_regions, apps):
    use_app(three_regions, apps, "bootstrapped.py", "--legacy")
    with pytest.raises(SynthError) as caught:
        synth_application(three_regions)
    assert caught.value.kind == "contract"
    assert "Stack orders-us-east-1 (region us-east-1) passes assets as template parameters" in (
        str(caught.value))
    assert "DefaultStackSynthesizer" in str(caught.value)


def test_an_asset_whose_file_is_missing_is_a_contract_error(three_regions, apps):
    (apps / "broken.py").write_text(
        "import os, pathlib, shutil, sys\n"
        "import bootstrapped\n"
        "bootstrapped.main(sys.argv[1:])\n"
        "out = pathlib.Path(os.environ['CDK_OUTDIR'])\n"
        "for folder in out.glob('asset.*'):\n"
        "    shutil.rmtree(folder)\n"
    )
    use_app(three_regions, apps, "broken.py")
    with pytest.raises(SynthError) as caught:
        synth_application(three_regions)
    assert caught.value.kind == "contract"
    assert "asset Fn/Code names asset." in str(caught.value)
    assert "which is not in the cloud assembly" in str(caught.value)


def test_placeholders_are_filled_in_with_the_partition_of_the_region():
    arn = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/x-${AWS::Region}"
    assert resolve(arn, "111", "cn-north-1") == "arn:aws-cn:iam::111:role/x-cn-north-1"
    assert resolve(arn, "111", "us-gov-west-1") == "arn:aws-us-gov:iam::111:role/x-us-gov-west-1"
    assert resolve(arn, "111", "eu-west-1") == "arn:aws:iam::111:role/x-eu-west-1"
    assert partition("cn-north-1") == ("aws-cn", "amazonaws.com.cn")
