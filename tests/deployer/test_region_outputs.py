from accounts.models import AuditEntry
from deployer.models import Deployment, Rollout, Status
from deployer.runs import region_finished
from regions.models import Region, RegionState


def _finished(application, outputs):
    region = application.regions.get()
    rollout = Rollout.objects.create(application=application, kind="deploy", status=Status.RUNNING)
    return Deployment.objects.create(rollout=rollout, region=region, step=0,
                                     action="update_main", stack_name="orders-us-east-1",
                                     status=Status.SUCCEEDED, outputs=outputs)


def test_new_outputs_of_an_active_region_are_stored_and_audited(application):
    Region.objects.filter(application=application).update(state=RegionState.ACTIVE,
                                                          health_check_id="hc-old")
    region_finished(_finished(application, {"HealthCheckId": "hc-new", "ApiUrl": "https://x/"}))

    region = application.regions.get()
    assert (region.health_check_id, region.api_url) == ("hc-new", "https://x/")
    entry = AuditEntry.objects.get(action="region.outputs")
    assert entry.before["health_check_id"] == "hc-old"
    assert entry.after["health_check_id"] == "hc-new"


def test_unchanged_outputs_write_no_audit_entry(application):
    Region.objects.filter(application=application).update(
        state=RegionState.ACTIVE, health_check_id="hc-1", api_url="https://x/")
    region_finished(_finished(application, {"HealthCheckId": "hc-1", "ApiUrl": "https://x/"}))
    assert not AuditEntry.objects.filter(action="region.outputs").exists()
