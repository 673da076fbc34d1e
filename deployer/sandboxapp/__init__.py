"""The sandbox CDK application: the app contract with only resources moto server can create."""
