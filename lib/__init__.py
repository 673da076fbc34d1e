"""Plain helpers that are no Django app: the AWS door, CloudWatch parsing, the Route 53
budget, the shared Redis connection and sparklines. Nothing here defines models or views."""
