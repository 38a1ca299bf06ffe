/**
 * One naming convention for everything that has a name: stacks, pools, clients, functions, log groups, the
 * API, the WAF, alarms, exports. The only exception is the execution log group, whose name API Gateway fixes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { App } from 'aws-cdk-lib';

import { addCognigateStacks } from '../lib/app';
import { ENVIRONMENTS } from '../lib/environments';
import { resourceName, stackName } from '../lib/naming';
import { templates } from './support';

/** The property that names each resource type this app creates, where the type has one. */
const NAME_PROPERTIES: Readonly<Record<string, string>> = {
  'AWS::Cognito::UserPool': 'UserPoolName',
  'AWS::Cognito::UserPoolClient': 'ClientName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::ApiGateway::RestApi': 'Name',
  'AWS::ApiGateway::Authorizer': 'Name',
  'AWS::ApiGateway::RequestValidator': 'Name',
  'AWS::WAFv2::WebACL': 'Name',
  'AWS::CloudWatch::Alarm': 'AlarmName',
};

describe('naming', () => {
  it('builds <env>-cognigate-<resource> and refuses anything else as a resource part', () => {
    assert.equal(resourceName('prod', 'api-access-logs'), 'prod-cognigate-api-access-logs');
    assert.equal(stackName('staging', 'customerAuth'), 'staging-cognigate-customer-auth');
    for (const wrong of ['', 'Api', 'api_logs', '-api', 'api-', 'api--logs', 'api logs']) {
      assert.throws(() => resourceName('dev', wrong), /lower-case words joined by single hyphens/);
    }
  });

  for (const env of ENVIRONMENTS) {
    it(`${env}: names stacks, named resources and exports by the convention`, () => {
      const app = new App({ context: { env } });
      const stacks = addCognigateStacks(app);
      assert.deepEqual(
        [
          stacks.customerAuth.stackName,
          stacks.staffAuth.stackName,
          stacks.triggers.stackName,
          stacks.api.stackName,
        ],
        [
          `${env}-cognigate-customer-auth`,
          `${env}-cognigate-staff-auth`,
          `${env}-cognigate-triggers`,
          `${env}-cognigate-api`,
        ],
      );
      const convention = new RegExp(`^${env}-cognigate-[a-z0-9]+(-[a-z0-9]+)*$`);
      let named = 0;
      for (const template of Object.values(templates(env))) {
        const json = template.toJSON();
        for (const [id, resource] of Object.entries<any>(json.Resources)) {
          const property = NAME_PROPERTIES[resource.Type];
          if (property === undefined) {
            continue;
          }
          const name = resource.Properties[property];
          if (resource.Type === 'AWS::Logs::LogGroup' && typeof name !== 'string') {
            assert.ok(JSON.stringify(name).includes('API-Gateway-Execution-Logs_'), id);
            continue;
          }
          assert.match(name, convention, `${resource.Type} ${id}`);
          named += 1;
        }
        for (const output of Object.values<any>(json.Outputs ?? {})) {
          if (output.Export !== undefined) {
            assert.match(output.Export.Name, convention);
          }
        }
      }
      // 2 pools, 2 clients, 2 functions, 3 log groups (and the execution logs), API, authorizer, validator,
      // WAF, 5 alarms.
      assert.equal(named, 18);
    });
  }
});
