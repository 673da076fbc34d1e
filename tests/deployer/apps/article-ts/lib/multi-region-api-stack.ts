import * as cdk from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import * as path from 'path';

export interface MultiRegionApiStackProps extends cdk.StackProps {
  hostedZoneId: string;
  domainName: string;
  mainRegion: string;
  replicationRegions: string[];
  tableName: string;
}

// Alarms live in a nested stack of their own.
class Alerts extends cdk.NestedStack {
  public readonly topic: sns.Topic;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic');
  }
}

export class MultiRegionApiStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props: MultiRegionApiStackProps) {
    super(scope, id, props);
    const region = cdk.Stack.of(this).region;

    const table = region === props.mainRegion
      ? new dynamodb.Table(this, 'Table', {
          tableName: props.tableName,
          partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
          billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
          replicationRegions: props.replicationRegions,
          removalPolicy: cdk.RemovalPolicy.RETAIN,
        })
      : dynamodb.Table.fromTableName(this, 'Table', props.tableName);

    const handler = new lambda.Function(this, 'Writer', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(path.join(__dirname, '..', 'lambda')),
      environment: { TABLE_NAME: props.tableName },
    });
    table.grantWriteData(handler);

    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: props.hostedZoneId,
      zoneName: props.domainName,
    });
    const certificate = new acm.DnsValidatedCertificate(this, 'Certificate', {
      domainName: props.domainName,
      hostedZone: zone,
      region,
    });

    const api = new apigateway.LambdaRestApi(this, 'Api', {
      handler,
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      deployOptions: { stageName: 'prod' },
      domainName: {
        domainName: props.domainName,
        certificate,
        endpointType: apigateway.EndpointType.REGIONAL,
      },
    });

    const healthCheck = new route53.HealthCheck(this, 'HealthCheck', {
      type: route53.HealthCheckType.HTTPS,
      fqdn: `${api.restApiId}.execute-api.${region}.amazonaws.com`,
      resourcePath: '/prod/health',
      requestInterval: cdk.Duration.seconds(30),
    });

    new route53.ARecord(this, 'LatencyRecord', {
      zone,
      recordName: props.domainName,
      target: route53.RecordTarget.fromAlias(new targets.ApiGateway(api)),
      region,
      setIdentifier: region,
      healthCheck,
    });

    new Alerts(this, 'Alerts');
    new cdk.CfnOutput(this, 'ApiUrl', { value: api.url });
  }
}
