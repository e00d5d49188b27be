/**
 * The expiry clock: the Lambda function behind LabStack's `Custom::ExpiryClock` (see
 * lib/infra/lab-expiry.ts). A template cannot read the clock, so a lab deployed with a TTL and no
 * expiresAt (a plain `cdk deploy`) asks this function, at deploy time, for the expiry schedule's
 * `at(...)` expression: now + TtlSeconds, never earlier than the one the schedule already has
 * (`lab extend` moves the schedule outside CloudFormation; a re-deploy must not cut that short).
 *
 * CommonJS (package.json beside it), plain JavaScript with no dependency but the AWS SDK for
 * JavaScript v3 that the Lambda Node.js runtimes include
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html). CDK's
 * CustomResourceProvider wraps `handler` in its entry point, which sends the response to
 * CloudFormation; the handler returns { PhysicalResourceId, Data } or throws (a FAILED response
 * with the message).
 *
 * Called only when the resource is created or its properties change: a re-deploy that keeps the
 * TTL leaves the resource, its Data and so the schedule as they are.
 */
// @ts-check
'use strict';

const { GetScheduleCommand, SchedulerClient } = require('@aws-sdk/client-scheduler');

/**
 * @typedef {{ RequestType: 'Create' | 'Update' | 'Delete', PhysicalResourceId?: string,
 *   ResourceProperties?: { TtlSeconds?: string | number, ScheduleName?: string, ScheduleGroup?: string } }} ClockEvent
 * @typedef {{ PhysicalResourceId: string, Data?: { AtExpression: string, ExpiresAt: string } }} ClockResult
 * @typedef {{ client: SchedulerClient, now: () => number }} ClockDeps
 */

const AT = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/;

/**
 * `at(yyyy-mm-ddThh:mm:ss)` in UTC, whole seconds (the schedule's timezone is UTC).
 * @param {number} ms
 * @returns {string}
 */
function atExpression(ms) {
  return `at(${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)})`;
}

/**
 * The time the schedule fires now (ms), or undefined when there is none or it is not a one-time UTC schedule.
 * @param {SchedulerClient} client
 * @param {string} name
 * @param {string} group
 * @returns {Promise<number | undefined>}
 */
async function scheduledExpiry(client, name, group) {
  let schedule;
  try {
    schedule = await client.send(new GetScheduleCommand({ Name: name, GroupName: group }));
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
  const match = AT.exec(schedule.ScheduleExpression || '');
  const utc = !schedule.ScheduleExpressionTimezone || schedule.ScheduleExpressionTimezone === 'UTC';
  return match && utc ? Date.parse(`${match[1]}Z`) : undefined;
}

/**
 * The clock itself.
 * @param {ClockEvent} event
 * @param {ClockDeps} deps
 * @returns {Promise<ClockResult>}
 */
async function expiryClock(event, deps) {
  const props = event.ResourceProperties || {};
  const physicalResourceId = event.PhysicalResourceId || `${props.ScheduleName}-clock`;
  if (event.RequestType === 'Delete') return { PhysicalResourceId: physicalResourceId };
  const ttlSeconds = Number(props.TtlSeconds);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new Error(`ExpiryClock: TtlSeconds "${props.TtlSeconds}" is not a whole number of seconds above 0`);
  }
  if (!props.ScheduleName || !props.ScheduleGroup) throw new Error('ExpiryClock: ScheduleName and ScheduleGroup are required');
  let expires = deps.now() + ttlSeconds * 1000;
  const current = await scheduledExpiry(deps.client, props.ScheduleName, props.ScheduleGroup);
  if (current !== undefined && current > expires) expires = current;
  const at = atExpression(expires);
  return { PhysicalResourceId: physicalResourceId, Data: { AtExpression: at, ExpiresAt: `${at.slice(3, -1)}Z` } };
}

exports.expiryClock = expiryClock;
exports.atExpression = atExpression;
/** @param {ClockEvent} event */
exports.handler = (event) => expiryClock(event, { client: new SchedulerClient({}), now: () => Date.now() });
