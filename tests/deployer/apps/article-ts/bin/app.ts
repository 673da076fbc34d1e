#!/usr/bin/env node
// One stack per run, for the region in AWS_REGION, as the original article deploys it.
import * as cdk from 'aws-cdk-lib';
import { MultiRegionApiStack } from '../lib/multi-region-api-stack';

const region = process.env.AWS_REGION;
const hostedZoneId = process.env.HOSTED_ZONE_ID;
const domainName = process.env.DOMAIN_NAME;
if (!region || !hostedZoneId || !domainName) {
  throw new Error('AWS_REGION, HOSTED_ZONE_ID and DOMAIN_NAME must be set');
}

const app = new cdk.App();
new MultiRegionApiStack(app, 'MultiRegionApiStack', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region },
  hostedZoneId,
  domainName,
  mainRegion: process.env.MAIN_REGION || 'us-east-1',
  replicationRegions: (process.env.REPLICATION_REGIONS || '').split(',').filter(Boolean),
  tableName: process.env.TABLE_NAME || 'multi-region-table',
});
