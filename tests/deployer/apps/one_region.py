"""A test app like the seed's: it reads only AWS_REGION and makes one stack, always named the
same, so the control plane must run it once per region and merge the stacks."""

import os

from assembly import record_run, template, write

region = os.environ["AWS_REGION"]
record_run("one:" + region)
print(f"stack for {region}", flush=True)
write({"MultiRegionApi": (region, template(region))}, os.environ["CDK_DEFAULT_ACCOUNT"])
