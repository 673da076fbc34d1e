"""The reference CDK application of the app contract; plain aws-cdk-lib, nothing of Django."""
