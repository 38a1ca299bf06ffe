/**
 * The REST API in front of the application: every route of the file's route table, each guarded by
 * cognigate's Rust authorizer, throttled per pool, behind a WAF rate rule, logged and alarmed.
 *
 * The authorizer is a REQUEST authorizer rather than Cognito's built-in one because a route needs more than
 * a valid token: the token must come from the route's pool, and its holder must have the route's permission
 * under cognigate's Cedar policies (team scope, tiers, onboarding state), which only cognigate can decide.
 */
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';

import type { RouteSettings, ThrottlingSettings } from './cognigate-file';
import type { DeploymentSettings, EnvironmentName } from './environments';
import { resourceName } from './naming';
import { RustLambda, type LambdaAssets } from './rust-lambda';
import { importedPoolEnvironment } from './user-pool';

export interface ApiStackProps extends StackProps {
  readonly envName: EnvironmentName;
  readonly routes: readonly RouteSettings[];
  readonly throttling: ThrottlingSettings;
  readonly deployment: DeploymentSettings;
  readonly lambdaAssets: LambdaAssets;
  /** The application the routes lead to; without one every route answers 503. */
  readonly backendUrl: string | undefined;
  /** SNS topic every alarm notifies. */
  readonly alarmTopicArn: string | undefined;
}

/** API Gateway's name for a route's method: `ANY` for cognigate's `*`. */
export function apiGatewayMethod(route: RouteSettings): string {
  return route.method === '*' ? 'ANY' : route.method;
}

/**
 * The stage's method-settings key of a route. An `ANY` method is addressed with `*`: API Gateway refuses
 * `ANY` in a method-settings path.
 */
export function methodSettingsKey(route: RouteSettings): string {
  return `${route.apiGatewayPath}/${route.method === '*' ? '*' : route.method}`;
}

/** The `{name}` and `{name+}` parameters of an API Gateway path, without braces or `+`. */
export function pathParameters(apiGatewayPath: string): string[] {
  return apiGatewayPath
    .split('/')
    .filter((segment) => segment.startsWith('{') && segment.endsWith('}'))
    .map((segment) => segment.slice(1, -1).replace(/\+$/, ''));
}

export class ApiStack extends Stack {
  readonly api: apigateway.RestApi;
  readonly authorizer: RustLambda;
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { envName: env, deployment } = props;
    if (props.routes.length === 0) {
      throw new Error(`${env}: infra/cognigate.json has no routes; an API without routes protects nothing`);
    }

    this.authorizer = new RustLambda(this, 'Authorizer', {
      env,
      deployment,
      binary: 'cognigate-authorizer',
      assets: props.lambdaAssets,
      name: 'authorizer',
      description: `${env} API Gateway REQUEST authorizer: the route's pool token and Cedar permission`,
      timeout: Duration.seconds(10),
      reservedConcurrency: deployment.authorizerReservedConcurrency,
      environment: {
        ...importedPoolEnvironment(this, env, 'customer'),
        ...importedPoolEnvironment(this, env, 'staff'),
      },
    });

    const stageName = env;
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      logGroupName: resourceName(env, 'api-access-logs'),
      retention: deployment.logRetention,
      removalPolicy: deployment.removalPolicy,
    });

    const methodOptions: { [path: string]: apigateway.MethodDeploymentOptions } = {};
    for (const route of props.routes) {
      const throttle = props.throttling[route.pool];
      methodOptions[methodSettingsKey(route)] = {
        throttlingRateLimit: throttle.ratePerSecond,
        throttlingBurstLimit: throttle.burst,
      };
    }

    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: resourceName(env, 'api'),
      description: `${env} cognigate: the application's routes behind the cognigate authorizer`,
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      // The account-level logging role is made below with a policy of our own.
      cloudWatchRole: false,
      deployOptions: {
        stageName,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.custom(ACCESS_LOG_FORMAT),
        loggingLevel: apigateway.MethodLoggingLevel.INFO,
        // Request and response bodies would put tokens and personal data into the logs.
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        methodOptions,
      },
    });
    // The URL is given once, as ApiUrl, with a description.
    this.api.node.tryRemoveChild('Endpoint');
    this.enableExecutionLogging(stageName, deployment);

    const authorizer = new apigateway.RequestAuthorizer(this, 'RequestAuthorizer', {
      authorizerName: resourceName(env, 'authorizer'),
      handler: this.authorizer.function,
      // The answer depends on the route as much as on the token, so both key the cache: a token allowed on
      // one route must not be let through another from the cache.
      identitySources: [
        apigateway.IdentitySource.header('Authorization'),
        apigateway.IdentitySource.context('httpMethod'),
        apigateway.IdentitySource.context('resourcePath'),
      ],
      resultsCacheTtl: deployment.authorizerCacheTtl,
    });

    const validator = this.api.addRequestValidator('RequestValidator', {
      requestValidatorName: resourceName(env, 'request-validator'),
      // Parameters: the Authorization header and the path parameters each method declares required. Bodies:
      // checked against a method's request model where one is declared; the routes declare none, the
      // application owns its payloads.
      validateRequestParameters: true,
      validateRequestBody: true,
    });

    const backend = props.backendUrl === undefined ? undefined : checkBackendUrl(env, props.backendUrl);
    for (const route of props.routes) {
      const parameters = pathParameters(route.apiGatewayPath);
      const method = this.api.root
        .resourceForPath(route.apiGatewayPath)
        .addMethod(
          apiGatewayMethod(route),
          backend === undefined ? noBackendIntegration() : backendIntegration(backend, route, parameters),
          {
            authorizer,
            authorizationType: apigateway.AuthorizationType.CUSTOM,
            requestValidator: validator,
            requestParameters: {
              'method.request.header.Authorization': true,
              ...Object.fromEntries(parameters.map((name) => [`method.request.path.${name}`, true])),
            },
            methodResponses: backend === undefined ? [{ statusCode: '503' }] : undefined,
          },
        );
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-COG4',
        reason:
          `${apiGatewayMethod(route)} ${route.apiGatewayPath} needs the ${route.permission} permission of the ` +
          `${route.pool} pool: the cognigate REQUEST authorizer verifies the ${route.pool} pool's Cognito token ` +
          'itself and decides the permission with Cedar, which a Cognito user pools authorizer cannot.',
      });
    }

    this.webAcl = this.addWebAcl(env, props.throttling.wafRequestsPer5MinutesPerAddress);
    this.addAlarms(env, deployment, props.alarmTopicArn);

    new CfnOutput(this, 'ApiUrl', {
      key: 'ApiUrl',
      description: `URL of the ${env} REST API stage; the routes of infra/cognigate.json hang below it`,
      value: this.api.url,
    });
  }

  /**
   * API Gateway writes execution logs with an account-wide role and into a group it names itself. The role
   * is ours (not AmazonAPIGatewayPushToCloudWatchLogs), and the group is made here first so it has a
   * retention instead of keeping logs forever.
   */
  private enableExecutionLogging(stageName: string, deployment: DeploymentSettings): void {
    const role = new iam.Role(this, 'ApiGatewayLoggingRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: 'API Gateway (account-wide setting): writes execution and access logs of REST API stages',
      inlinePolicies: {
        WriteApiGatewayLogs: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: [
                'logs:CreateLogGroup',
                'logs:CreateLogStream',
                'logs:DescribeLogGroups',
                'logs:DescribeLogStreams',
                'logs:PutLogEvents',
                'logs:GetLogEvents',
                'logs:FilterLogEvents',
              ],
              // Pseudo parameters rather than the stack's region and account: the ARN then reads the same in
              // every synth (CLI with a default region or env-agnostic), and so does its acknowledgement.
              resources: [`arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*`],
            }),
          ],
        }),
      },
    });
    // The setting outlives the stack, as the CDK's own CloudWatch role does: other APIs in the account and
    // region rely on it.
    role.applyRemovalPolicy(RemovalPolicy.RETAIN);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*]',
      reason:
        'the API Gateway logging role is one setting for every REST API of the account and region, and API ' +
        'Gateway names the execution log groups itself (API-Gateway-Execution-Logs_<api id>/<stage>).',
    });
    const account = new apigateway.CfnAccount(this, 'ApiGatewayAccount', { cloudWatchRoleArn: role.roleArn });
    account.applyRemovalPolicy(RemovalPolicy.RETAIN);

    const executionLogs = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${stageName}`,
      retention: deployment.logRetention,
      removalPolicy: deployment.removalPolicy,
    });
    this.api.deploymentStage.node.addDependency(account, executionLogs);
  }

  private addWebAcl(env: EnvironmentName, requestsPer5Minutes: number): wafv2.CfnWebACL {
    const visibility = (metric: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      metricName: resourceName(env, metric),
      sampledRequestsEnabled: true,
    });
    const webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name: resourceName(env, 'waf'),
      description: `${env} cognigate API: requests per client address, known bad inputs`,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('waf'),
      rules: [
        {
          name: 'rate-per-address',
          priority: 0,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              limit: requestsPer5Minutes,
              aggregateKeyType: 'IP',
              evaluationWindowSec: 300,
            },
          },
          visibilityConfig: visibility('waf-rate-per-address'),
        },
        {
          // Log4Shell and similar payloads; free of charge beyond its capacity units.
          name: 'known-bad-inputs',
          priority: 1,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesKnownBadInputsRuleSet' },
          },
          visibilityConfig: visibility('waf-known-bad-inputs'),
        },
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.api.deploymentStage.stageArn,
      webAclArn: webAcl.attrArn,
    });
    return webAcl;
  }

  private addAlarms(
    env: EnvironmentName,
    deployment: DeploymentSettings,
    topicArn: string | undefined,
  ): void {
    const period = Duration.minutes(5);
    const stageMetric = (name: string): cloudwatch.Metric =>
      this.api.deploymentStage.metric(name, { statistic: 'Average', period });
    const alarms = [
      new cloudwatch.Alarm(this, 'AuthorizerErrorsAlarm', {
        alarmName: resourceName(env, 'authorizer-errors'),
        alarmDescription:
          'The authorizer failed (not refused: failed); API Gateway answered 500 to those requests.',
        metric: this.authorizer.function.metricErrors({ period, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'AuthorizerThrottlesAlarm', {
        alarmName: resourceName(env, 'authorizer-throttles'),
        alarmDescription:
          'The authorizer hit its concurrency limit; API Gateway answered 500 to those requests.',
        metric: this.authorizer.function.metricThrottles({ period, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'Api4xxAlarm', {
        alarmName: resourceName(env, 'api-4xx'),
        alarmDescription:
          `More than ${deployment.clientErrorRateAlarm * 100}% of requests answered 4XX for 15 minutes: ` +
          'throttling (429), WAF blocks or refused tokens.',
        metric: stageMetric('4XXError'),
        threshold: deployment.clientErrorRateAlarm,
        evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'Api5xxAlarm', {
        alarmName: resourceName(env, 'api-5xx'),
        alarmDescription: `More than ${deployment.serverErrorRateAlarm * 100}% of requests answered 5XX for 10 minutes.`,
        metric: stageMetric('5XXError'),
        threshold: deployment.serverErrorRateAlarm,
        evaluationPeriods: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
    if (topicArn !== undefined) {
      const topic = sns.Topic.fromTopicArn(this, 'AlarmTopic', topicArn);
      for (const alarm of alarms) {
        alarm.addAlarmAction(new actions.SnsAction(topic));
      }
    }
  }
}

/** One JSON object per request; `authorizerError` says why a token was refused. */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  ip: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  resourcePath: '$context.resourcePath',
  path: '$context.path',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  principalId: '$context.authorizer.principalId',
  authorizerStatus: '$context.authorizer.status',
  authorizerLatency: '$context.authorizer.latency',
  authorizerError: '$context.authorizer.error',
  integrationStatus: '$context.integration.status',
  integrationError: '$context.integration.error',
  wafStatus: '$context.waf.status',
  errorMessage: '$context.error.message',
});

function checkBackendUrl(env: EnvironmentName, url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`backendUrl \`${url}\` is not a URL`);
  }
  const allowed = env === 'dev' ? ['https:', 'http:'] : ['https:'];
  if (!allowed.includes(parsed.protocol) || parsed.search !== '' || parsed.hash !== '' || url.endsWith('/')) {
    throw new Error(
      `backendUrl \`${url}\` must be ${env === 'dev' ? 'an http(s)' : 'an https'} URL without query, fragment or trailing slash`,
    );
  }
  return url;
}

/** Proxies the request to the same path on the backend, path parameters included. */
function backendIntegration(
  backend: string,
  route: RouteSettings,
  parameters: readonly string[],
): apigateway.Integration {
  const path = route.apiGatewayPath.replace(/\{([^}]+)\+\}/g, '{$1}');
  return new apigateway.HttpIntegration(`${backend}${path}`, {
    proxy: true,
    httpMethod: apiGatewayMethod(route),
    options: {
      requestParameters: Object.fromEntries(
        parameters.map((name) => [`integration.request.path.${name}`, `method.request.path.${name}`]),
      ),
      timeout: Duration.seconds(29),
    },
  });
}

/** Without a backend the routes still exist (and are still authorized), but say there is nothing behind them. */
function noBackendIntegration(): apigateway.Integration {
  return new apigateway.MockIntegration({
    passthroughBehavior: apigateway.PassthroughBehavior.NEVER,
    requestTemplates: { 'application/json': '{"statusCode": 503}' },
    integrationResponses: [
      {
        statusCode: '503',
        responseTemplates: {
          'application/json': JSON.stringify({
            code: 'NO_BACKEND',
            message: 'this API was deployed without -c backendUrl=...: no application behind the route',
          }),
        },
      },
    ],
  });
}
