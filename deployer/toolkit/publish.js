#!/usr/bin/env node
// Publishes the assets of one asset manifest (`<stack>.assets.json`) to their destinations with
// the CDK toolkit's publishing library, as `cdk-assets publish` and `cdk deploy` do: objects
// and images that exist already are left alone, the rest is built and uploaded.
//
//   node publish.js MANIFEST [ASSET[:DESTINATION] ...]
//
// Credentials, region and endpoint come from the environment (AWS SDK for JavaScript v3);
// each destination's publishing role is assumed from them. One line per progress event
// (`[50%] upload: Upload s3://…`); exit code 1 when an asset could not be published.
'use strict';

const { AssetManifest, AssetPublishing, DefaultAwsClient, DestinationPattern } =
  require('@aws-cdk/cdk-assets-lib');

function report(type, progress) {
  const line = `[${progress.percentComplete}%] ${type}: ${progress.message}`;
  if (type === 'fail') {
    console.error(line);
  } else {
    console.log(line);
  }
}

async function main(args) {
  const [manifestPath, ...selection] = args;
  if (!manifestPath) {
    console.error('usage: publish.js MANIFEST [ASSET[:DESTINATION] ...]');
    return 2;
  }
  let manifest = AssetManifest.fromPath(manifestPath);
  if (selection.length > 0) {
    manifest = manifest.select(selection.map((pattern) => DestinationPattern.parse(pattern)));
  }
  const publishing = new AssetPublishing(manifest, {
    aws: new DefaultAwsClient(),
    progressListener: { onPublishEvent: report },
    throwOnError: false,
  });
  await publishing.publish();
  for (const failure of publishing.failures) {
    console.error(`Failed to publish ${failure.asset.displayName(true)}: ${failure.error.message}`);
  }
  return publishing.hasFailures ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error) => {
    console.error(`Error: ${error.message}`);
    process.exitCode = 1;
  },
);
