"""A test app that synthesizes every region in one run, from the `regions` context key.

Flags: --skip-region R (no stack for R), --no-health-check R (R's stack lacks HealthCheckId),
--twice R (a second stack for R), --wait-for-go (print a line, then wait until the file ../go exists)."""

import sys
import time

from assembly import HERE, context, record_run, template, write


def main(argv: list[str]) -> int:
    ctx = context()
    regions = ctx["regions"].split(",")
    record_run("all:" + ",".join(regions))
    print(f"synthesizing {len(regions)} regions", flush=True)
    print("a warning on stderr", file=sys.stderr, flush=True)
    if "--wait-for-go" in argv:
        go = HERE.parent / "go"
        for _ in range(200):
            if go.exists():
                break
            time.sleep(0.05)
        else:
            print("nobody read my first line while I ran", file=sys.stderr)
            return 4
    skip = argv[argv.index("--skip-region") + 1] if "--skip-region" in argv else None
    bare = argv[argv.index("--no-health-check") + 1] if "--no-health-check" in argv else None
    stacks = {
        f"{ctx['app_name']}-{region}": (region, template(region, health_check=region != bare))
        for region in regions
        if region != skip
    }
    if "--twice" in argv:
        region = argv[argv.index("--twice") + 1]
        stacks[f"{ctx['app_name']}-{region}-extra"] = (region, template(region))
    write(stacks, ctx["account"])
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
