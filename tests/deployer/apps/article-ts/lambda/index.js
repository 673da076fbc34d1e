// Writes an item to the region's replica of the global table.
const { DynamoDBClient, PutItemCommand } = require('@aws-sdk/client-dynamodb');

const client = new DynamoDBClient({});

exports.handler = async (event) => {
  const item = { pk: { S: event.requestContext?.requestId ?? String(Date.now()) },
                 region: { S: process.env.AWS_REGION } };
  await client.send(new PutItemCommand({ TableName: process.env.TABLE_NAME, Item: item }));
  return { statusCode: 200, body: JSON.stringify({ region: process.env.AWS_REGION }) };
};
