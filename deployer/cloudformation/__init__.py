"""The CloudFormation engine: change sets per region, their execution and the stack's events.

Every call goes through lib.aws.client. A deployment's log is its DeploymentEvents;
throttling is retried with backoff and logged, never raised. Errors that retrying cannot fix
are raised as EngineError.

Its settings (controlplane/settings.py): DEPLOY_POLL_INTERVAL, DEPLOY_CHANGE_SET_TIMEOUT,
DEPLOY_AWS_ATTEMPTS, and for tests and benchmarks against moto, which finishes stacks at once,
DEPLOY_FOLLOW_DELAY (seconds a deployment keeps following after execution before it accepts a
terminal status), which stands in for the minutes CloudFormation takes on AWS.

`engine` holds the Engine; `changes` reads change sets and flags stateful changes; `stacks`
knows CloudFormation's stack statuses.
"""

from .changes import STATEFUL_ON_REMOVAL, STATEFUL_TYPES, parse_change
from .engine import Engine
from .stacks import FAILED_STATUSES, EngineError, Outcome, is_terminal, stack_missing

__all__ = [
    "FAILED_STATUSES", "STATEFUL_ON_REMOVAL", "STATEFUL_TYPES", "Engine", "EngineError",
    "Outcome", "is_terminal", "parse_change", "stack_missing",
]
