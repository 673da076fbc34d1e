"""`python -m deployer.sandboxapp`: synthesize the sandbox application's stacks."""

import sys

from deployer.cdkapp.node import use_wheel_node

use_wheel_node()  # before aws_cdk is imported: the jsii kernel starts with the first import

from deployer.cdkapp.cli import main  # noqa: E402
from deployer.sandboxapp.stacks import build  # noqa: E402

if __name__ == "__main__":
    sys.exit(main("sandboxapp", build))
