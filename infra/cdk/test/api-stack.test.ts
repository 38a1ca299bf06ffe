/**
 * The API stack, in every environment, against the route table and throttles of infra/cognigate.json: every
 * route exists, every route is behind the cognigate authorizer and throttled for its pool, and nothing else is
 * reachable.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Match, type Template } from 'aws-cdk-lib/assertions';

import { apiGatewayMethod, pathParameters } from '../lib/api-stack';
import type { RouteSettings } from '../lib/cognigate-file';
import { ENVIRONMENTS, type EnvironmentName } from '../lib/environments';
import { FILE, editedFile, resources, single, templates } from './support';

const RETENTION_DAYS: { readonly [E in EnvironmentName]: number } = { dev: 14, staging: 90, prod: 365 };

function api(env: EnvironmentName, context: Record<string, unknown> = {}): Template {
  return templates(env, context).api;
}

/** The full path of every API Gateway resource, by logical id, from the parent chain. */
function resourcePaths(template: Template): Map<string, string> {
  const all = resources(template, 'AWS::ApiGateway::Resource');
  const paths = new Map<string, string>();
  const pathOf = (id: string): string => {
    const known = paths.get(id);
    if (known !== undefined) {
      return known;
    }
    const resource = all[id];
    assert.ok(resource !== undefined, `resource ${id} exists`);
    const parent = resource.Properties.ParentId;
    const prefix = parent['Fn::GetAtt'] !== undefined ? '' : pathOf(parent.Ref);
    const full = `${prefix}/${resource.Properties.PathPart}`;
    paths.set(id, full);
    return full;
  };
  for (const id of Object.keys(all)) {
    pathOf(id);
  }
  return paths;
}

/** The method of a route: matched by API Gateway path and method, not by construct id. */
function methodOf(template: Template, route: RouteSettings): { id: string; properties: any } {
  const paths = resourcePaths(template);
  const matches = Object.entries(resources(template, 'AWS::ApiGateway::Method')).filter(
    ([, method]) =>
      method.Properties.HttpMethod === apiGatewayMethod(route) &&
      paths.get(method.Properties.ResourceId.Ref) === route.apiGatewayPath,
  );
  assert.equal(matches.length, 1, `one ${apiGatewayMethod(route)} ${route.apiGatewayPath}`);
  return { id: matches[0]![0], properties: matches[0]![1].Properties };
}

for (const env of ENVIRONMENTS) {
  const settings = FILE.environments[env];

  describe(`${env} API stack`, () => {
    it('has one REQUEST authorizer on the cognigate-authorizer Lambda, keyed by token and route', () => {
      const template = api(env);
      const [, authorizer] = single(template, 'AWS::ApiGateway::Authorizer');
      const [functionId, fn] = single(template, 'AWS::Lambda::Function');
      assert.equal(authorizer.Properties.Type, 'REQUEST');
      assert.equal(authorizer.Properties.Name, `${env}-cognigate-authorizer`);
      assert.equal(
        authorizer.Properties.IdentitySource,
        'method.request.header.Authorization,context.httpMethod,context.resourcePath',
      );
      assert.equal(authorizer.Properties.AuthorizerResultTtlInSeconds, 60);
      assert.ok(JSON.stringify(authorizer.Properties.AuthorizerUri).includes(`"${functionId}","Arn"`));
      assert.equal(fn.Properties.FunctionName, `${env}-cognigate-authorizer`);
      assert.equal(fn.Properties.Runtime, 'provided.al2023');
      assert.deepEqual(fn.Properties.Architectures, ['x86_64']);
      assert.equal(fn.Properties.Handler, 'bootstrap');
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] },
      });
    });

    it('configures the authorizer for both pools through COGNIGATE_* variables', () => {
      const [, fn] = single(api(env), 'AWS::Lambda::Function');
      const variables = fn.Properties.Environment.Variables;
      const expected: Record<string, unknown> = { COGNIGATE_ENV: env };
      for (const kind of ['customer', 'staff'] as const) {
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
      assert.deepEqual(variables, expected);
    });

    it('creates every route of the file, and nothing else', () => {
      const template = api(env);
      const methods = Object.values(resources(template, 'AWS::ApiGateway::Method'));
      assert.equal(methods.length, settings.routes.length);
      for (const route of settings.routes) {
        methodOf(template, route);
      }
    });

    it('puts every route behind the authorizer and the request validator', () => {
      const template = api(env);
      const [authorizerId] = single(template, 'AWS::ApiGateway::Authorizer');
      const [validatorId, validator] = single(template, 'AWS::ApiGateway::RequestValidator');
      assert.equal(validator.Properties.ValidateRequestParameters, true);
      assert.equal(validator.Properties.Name, `${env}-cognigate-request-validator`);
      for (const route of settings.routes) {
        const { properties } = methodOf(template, route);
        assert.equal(properties.AuthorizationType, 'CUSTOM', route.apiGatewayPath);
        assert.deepEqual(properties.AuthorizerId, { Ref: authorizerId });
        assert.deepEqual(properties.RequestValidatorId, { Ref: validatorId });
        const required: Record<string, boolean> = { 'method.request.header.Authorization': true };
        for (const name of pathParameters(route.apiGatewayPath)) {
          required[`method.request.path.${name}`] = true;
        }
        assert.deepEqual(properties.RequestParameters, required);
      }
    });

    it('throttles every route with its pool’s rate and burst', () => {
      const [, stage] = single(api(env), 'AWS::ApiGateway::Stage');
      const settingsByPath = new Map<string, any>(
        stage.Properties.MethodSettings.map((entry: any) => [
          `${entry.ResourcePath} ${entry.HttpMethod}`,
          entry,
        ]),
      );
      for (const route of settings.routes) {
        // API Gateway addresses an ANY method's settings as `*`.
        const method = route.method === '*' ? '*' : route.method;
        const encodedPath = `/${route.apiGatewayPath.replace(/\//g, '~1')}`;
        const entry = settingsByPath.get(`${encodedPath} ${method}`);
        assert.ok(entry !== undefined, `method settings for ${route.method} ${route.apiGatewayPath}`);
        const throttle = settings.throttling[route.pool];
        assert.equal(entry.ThrottlingRateLimit, throttle.ratePerSecond);
        assert.equal(entry.ThrottlingBurstLimit, throttle.burst);
      }
      // One entry per route plus the stage-wide logging entry.
      assert.equal(stage.Properties.MethodSettings.length, settings.routes.length + 1);
    });

    it('logs access as JSON and execution at INFO, without request bodies', () => {
      const template = api(env);
      const [, stage] = single(template, 'AWS::ApiGateway::Stage');
      const [accessLogsId] = Object.entries(resources(template, 'AWS::Logs::LogGroup')).find(
        ([, group]) => group.Properties.LogGroupName === `${env}-cognigate-api-access-logs`,
      )!;
      assert.deepEqual(stage.Properties.AccessLogSetting.DestinationArn, {
        'Fn::GetAtt': [accessLogsId, 'Arn'],
      });
      const format = JSON.parse(stage.Properties.AccessLogSetting.Format);
      assert.equal(format.requestId, '$context.requestId');
      assert.equal(format.authorizerError, '$context.authorizer.error');
      assert.deepEqual(
        stage.Properties.MethodSettings.find((entry: any) => entry.ResourcePath === '/*'),
        {
          ResourcePath: '/*',
          HttpMethod: '*',
          LoggingLevel: 'INFO',
          MetricsEnabled: true,
          DataTraceEnabled: false,
        },
      );
      assert.equal(stage.Properties.TracingEnabled, true);
      assert.equal(stage.Properties.StageName, env);
    });

    it('gives API Gateway its logging role through a policy of its own, not a managed one', () => {
      const template = api(env);
      const [, account] = single(template, 'AWS::ApiGateway::Account');
      const roleId = account.Properties.CloudWatchRoleArn['Fn::GetAtt'][0];
      const role = resources(template, 'AWS::IAM::Role')[roleId]!;
      assert.equal(role.Properties.ManagedPolicyArns, undefined);
      assert.equal(
        role.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Service,
        'apigateway.amazonaws.com',
      );
      for (const id of Object.keys(resources(template, 'AWS::IAM::Role'))) {
        assert.equal(resources(template, 'AWS::IAM::Role')[id]!.Properties.ManagedPolicyArns, undefined, id);
      }
    });

    it(`keeps every log ${RETENTION_DAYS[env]} days, execution logs included`, () => {
      const groups = Object.values(resources(api(env), 'AWS::Logs::LogGroup'));
      assert.equal(groups.length, 3);
      for (const group of groups) {
        assert.equal(group.Properties.RetentionInDays, RETENTION_DAYS[env]);
        assert.equal(group.DeletionPolicy, env === 'prod' ? 'Retain' : 'Delete');
      }
      const execution = groups.find((group) => typeof group.Properties.LogGroupName !== 'string');
      assert.ok(JSON.stringify(execution?.Properties.LogGroupName).includes('API-Gateway-Execution-Logs_'));
    });

    it('blocks a client address above the file’s rate with WAF, on the stage', () => {
      const template = api(env);
      const [webAclId, webAcl] = single(template, 'AWS::WAFv2::WebACL');
      assert.equal(webAcl.Properties.Name, `${env}-cognigate-waf`);
      assert.equal(webAcl.Properties.Scope, 'REGIONAL');
      const rate = webAcl.Properties.Rules.find(
        (rule: any) => rule.Statement.RateBasedStatement !== undefined,
      );
      assert.deepEqual(rate.Action, { Block: {} });
      assert.deepEqual(rate.Statement.RateBasedStatement, {
        Limit: settings.throttling.wafRequestsPer5MinutesPerAddress,
        AggregateKeyType: 'IP',
        EvaluationWindowSec: 300,
      });
      const [stageId] = single(template, 'AWS::ApiGateway::Stage');
      const [, association] = single(template, 'AWS::WAFv2::WebACLAssociation');
      assert.deepEqual(association.Properties.WebACLArn, { 'Fn::GetAtt': [webAclId, 'Arn'] });
      assert.ok(JSON.stringify(association.Properties.ResourceArn).includes(`{"Ref":"${stageId}"}`));
    });

    it('alarms on authorizer errors and throttles, and on 4XX and 5XX rates', () => {
      const template = api(env);
      const [functionId] = single(template, 'AWS::Lambda::Function');
      for (const metric of ['Errors', 'Throttles']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          AlarmName: `${env}-cognigate-authorizer-${metric.toLowerCase()}`,
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId } }],
        });
      }
      for (const [name, metric] of [
        ['api-4xx', '4XXError'],
        ['api-5xx', '5XXError'],
      ] as const) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          AlarmName: `${env}-cognigate-${name}`,
          Namespace: 'AWS/ApiGateway',
          MetricName: metric,
          Statistic: 'Average',
          Dimensions: Match.arrayWith([{ Name: 'ApiName', Value: `${env}-cognigate-api` }]),
        });
      }
    });

    it('outputs the API URL', () => {
      const outputs = api(env).toJSON().Outputs;
      assert.deepEqual(Object.keys(outputs), ['ApiUrl']);
      assert.match(outputs.ApiUrl.Description, new RegExp(`^URL of the ${env} REST API stage`));
    });
  });
}

describe('API backends', () => {
  it('proxies each route to the same path on the backend, path parameters included', () => {
    const backend = 'https://app.example.com';
    const template = api('prod', { backendUrl: backend });
    for (const route of FILE.environments.prod.routes) {
      const { properties } = methodOf(template, route);
      const integration = properties.Integration;
      assert.equal(integration.Type, 'HTTP_PROXY');
      assert.equal(integration.IntegrationHttpMethod, apiGatewayMethod(route));
      assert.equal(integration.Uri, `${backend}${route.apiGatewayPath.replace('+}', '}')}`);
      const mapped: Record<string, string> = {};
      for (const name of pathParameters(route.apiGatewayPath)) {
        mapped[`integration.request.path.${name}`] = `method.request.path.${name}`;
      }
      assert.deepEqual(integration.RequestParameters ?? {}, mapped);
    }
  });

  it('answers 503 on every route when deployed without a backend', () => {
    const template = api('dev');
    for (const route of FILE.environments.dev.routes) {
      const { properties } = methodOf(template, route);
      assert.equal(properties.Integration.Type, 'MOCK');
      assert.equal(properties.Integration.IntegrationResponses[0].StatusCode, '503');
      assert.equal(properties.AuthorizationType, 'CUSTOM');
    }
  });

  it('refuses a plain-http backend outside dev', () => {
    assert.throws(() => api('staging', { backendUrl: 'http://app.example.com' }), /must be an https URL/);
    assert.throws(
      () => api('prod', { backendUrl: 'https://app.example.com/' }),
      /without query, fragment or trailing slash/,
    );
  });
});

describe('API stack follows the file', () => {
  it('picks up a new route, a changed throttle and a changed WAF rate', () => {
    const file = editedFile((json) => {
      const staging = json.environments.staging;
      staging.routes.push({
        method: 'DELETE',
        path: '/api/listings/{id}',
        apiGatewayPath: '/api/listings/{id}',
        pool: 'customer',
        permission: 'listing_create',
      });
      staging.throttling.customer = { ratePerSecond: 7, burst: 9 };
      staging.throttling.wafRequestsPer5MinutesPerAddress = 555;
    });
    const template = api('staging', { cognigateFile: file });
    const route = {
      method: 'DELETE',
      path: '/api/listings/{id}',
      apiGatewayPath: '/api/listings/{id}',
      pool: 'customer',
      permission: 'listing_create',
    } as const;
    assert.equal(methodOf(template, route).properties.AuthorizationType, 'CUSTOM');
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        // In route order: arrayWith matches a subsequence.
        Match.objectLike({
          ResourcePath: '/~1api~1me',
          HttpMethod: 'GET',
          ThrottlingRateLimit: 7,
          ThrottlingBurstLimit: 9,
        }),
        Match.objectLike({
          ResourcePath: '/~1api~1listings~1{id}',
          HttpMethod: 'DELETE',
          ThrottlingRateLimit: 7,
          ThrottlingBurstLimit: 9,
        }),
      ]),
    });
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: Match.arrayWith([
        Match.objectLike({ Statement: { RateBasedStatement: Match.objectLike({ Limit: 555 }) } }),
      ]),
    });
  });
});
