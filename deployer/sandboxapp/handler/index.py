"""The sandbox's stand-in for the API's handler: moto creates the function without running it."""

import os


def handler(event, context):
    return {"statusCode": 200, "body": os.environ.get("TABLE_NAME", "")}
