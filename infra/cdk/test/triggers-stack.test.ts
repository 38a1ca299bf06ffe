/**
 * The triggers stack, in every environment: one cognigate-triggers function serving both pools, configured
 * with both pools' ids, invocable by exactly those two pools, allowed exactly what PostConfirmation does.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Template } from 'aws-cdk-lib/assertions';

import { ENVIRONMENTS, type EnvironmentName } from '../lib/environments';
import { resources, single, templates } from './support';

const RETENTION_DAYS: { readonly [E in EnvironmentName]: number } = { dev: 14, staging: 90, prod: 365 };
const RESERVED: { readonly [E in EnvironmentName]: number | undefined } = {
  dev: undefined,
  staging: 10,
  prod: 50,
};

function triggers(env: EnvironmentName): Template {
  return templates(env).triggers;
}

/** `arn:<partition>:cognito-idp:<region>:<account>:userpool/<imported id>`, as CloudFormation gets it. */
function poolArn(env: EnvironmentName, kind: string): unknown {
  return {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':cognito-idp:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        ':userpool/',
        { 'Fn::ImportValue': `${env}-cognigate-${kind}-user-pool-id` },
      ],
    ],
  };
}

for (const env of ENVIRONMENTS) {
  describe(`${env} triggers stack`, () => {
    it('runs the cognigate-triggers binary under the name the pools point at', () => {
      const [, fn] = single(triggers(env), 'AWS::Lambda::Function');
      const properties = fn.Properties;
      assert.equal(properties.FunctionName, `${env}-cognigate-triggers`);
      assert.equal(properties.Runtime, 'provided.al2023');
      assert.deepEqual(properties.Architectures, ['x86_64']);
      assert.equal(properties.Handler, 'bootstrap');
      // Cognito waits 5 seconds for a trigger.
      assert.equal(properties.Timeout, 5);
      assert.equal(properties.ReservedConcurrentExecutions, RESERVED[env]);
    });

    it('configures both pools through COGNIGATE_* variables, so events are matched by userPoolId', () => {
      const [, fn] = single(triggers(env), 'AWS::Lambda::Function');
      const expected: Record<string, unknown> = { COGNIGATE_ENV: env };
      for (const kind of ['customer', 'staff']) {
        const prefix = `COGNIGATE_POOLS__${kind.toUpperCase()}`;
        expected[`${prefix}__PROVIDER`] = 'cognito';
        expected[`${prefix}__COGNITO__USER_POOL_ID`] = {
          'Fn::ImportValue': `${env}-cognigate-${kind}-user-pool-id`,
        };
        expected[`${prefix}__COGNITO__CLIENT_ID`] = {
          'Fn::ImportValue': `${env}-cognigate-${kind}-client-id`,
        };
        expected[`${prefix}__COGNITO__REGION`] = { Ref: 'AWS::Region' };
      }
      assert.deepEqual(fn.Properties.Environment.Variables, expected);
    });

    it('may be invoked by the two pools and by nobody else', () => {
      const [functionId] = single(triggers(env), 'AWS::Lambda::Function');
      const permissions = Object.values(resources(triggers(env), 'AWS::Lambda::Permission')).map(
        (p) => p.Properties,
      );
      assert.deepEqual(
        permissions,
        ['customer', 'staff'].map((kind) => ({
          Action: 'lambda:InvokeFunction',
          FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] },
          Principal: 'cognito-idp.amazonaws.com',
          SourceAccount: { Ref: 'AWS::AccountId' },
          SourceArn: poolArn(env, kind),
        })),
      );
    });

    it('has its own role: its log group, and PostConfirmation’s two calls on the two pools', () => {
      const template = triggers(env);
      const [roleId, role] = single(template, 'AWS::IAM::Role');
      assert.equal(role.Properties.ManagedPolicyArns, undefined);
      const [logsId] = single(template, 'AWS::Logs::LogGroup');
      const statements = Object.values(resources(template, 'AWS::IAM::Policy'))
        .filter((policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
        .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
      assert.deepEqual(statements, [
        {
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [logsId, 'Arn'] },
        },
        {
          Action: ['cognito-idp:AdminAddUserToGroup', 'cognito-idp:AdminUpdateUserAttributes'],
          Effect: 'Allow',
          Resource: [poolArn(env, 'customer'), poolArn(env, 'staff')],
        },
      ]);
    });

    it('may write attributes on both pools, as PostConfirmation does for custom:base_type and custom:onboarding', () => {
      const template = triggers(env);
      const [roleId] = single(template, 'AWS::IAM::Role');
      const grants = Object.values(resources(template, 'AWS::IAM::Policy'))
        .filter((policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
        .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
        .filter((statement) => [statement.Action].flat().includes('cognito-idp:AdminUpdateUserAttributes'));
      assert.equal(grants.length, 1);
      assert.equal(grants[0].Effect, 'Allow');
      assert.equal(grants[0].Condition, undefined);
      assert.deepEqual(grants[0].Resource, [poolArn(env, 'customer'), poolArn(env, 'staff')]);
    });

    it(`keeps its logs ${RETENTION_DAYS[env]} days in a group named by the convention`, () => {
      const [, logGroup] = single(triggers(env), 'AWS::Logs::LogGroup');
      assert.equal(logGroup.Properties.LogGroupName, `${env}-cognigate-triggers-logs`);
      assert.equal(logGroup.Properties.RetentionInDays, RETENTION_DAYS[env]);
      assert.equal(logGroup.DeletionPolicy, env === 'prod' ? 'Retain' : 'Delete');
    });

    it('alarms on trigger errors', () => {
      const [functionId] = single(triggers(env), 'AWS::Lambda::Function');
      triggers(env).hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `${env}-cognigate-triggers-errors`,
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId } }],
        Threshold: 1,
      });
    });

    it('outputs nothing: the pools’ stacks give cognigate serve its settings', () => {
      assert.equal(triggers(env).toJSON().Outputs, undefined);
    });
  });
}

describe('alarm notifications (context alarmTopicArn)', () => {
  it('sends every alarm of every stack to the topic', () => {
    const topic = 'arn:aws:sns:eu-west-1:123456789012:oncall';
    const all = templates('prod', { alarmTopicArn: topic });
    const alarms = [
      ...Object.values(resources(all.triggers, 'AWS::CloudWatch::Alarm')),
      ...Object.values(resources(all.api, 'AWS::CloudWatch::Alarm')),
    ];
    assert.equal(alarms.length, 5);
    for (const alarm of alarms) {
      assert.deepEqual(alarm.Properties.AlarmActions, [topic]);
    }
  });
});
