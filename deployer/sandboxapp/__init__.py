"""The sandbox CDK application: the app contract with only resources moto server can create.

Same inputs and stack names as the reference app (see deployer/cdkapp/__init__.py):

    CDK_OUTDIR=/tmp/out ... .venv/bin/python -m deployer.sandboxapp
"""
