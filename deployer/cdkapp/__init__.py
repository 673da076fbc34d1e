"""The reference CDK application of the app contract; plain aws-cdk-lib, nothing of Django.

From the repository root, inputs as CDK context and/or environment (docs/app-contract.md):

    CDK_OUTDIR=/tmp/out REGIONS=us-east-1,eu-west-1 MAIN_REGION=us-east-1 \\
    REPLICATION_REGIONS=eu-west-1 DOMAIN_NAME=api.example.com HOSTED_ZONE_ID=Z0123456789ABC \\
    TABLE_NAME=orders CDK_DEFAULT_ACCOUNT=123456789012 CDK_CONTEXT_JSON='{"nag": true}' \\
    .venv/bin/python -m deployer.cdkapp

Exit 2 means a missing or invalid input (one line on stderr), 3 a cdk-nag finding (with nag).
"""
