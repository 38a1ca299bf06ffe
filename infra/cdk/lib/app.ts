/**
 * Puts the three stacks of one environment into an app, from the app's context.
 *
 * `bin/app.ts` (what `cdk` runs) and the tests call the same function, so the tests check what is deployed.
 * The only thing `bin/app.ts` adds is cdk-nag: registered here it would make `Template.fromStack` throw on the
 * acknowledged-but-reported findings the nag test wants to read.
 *
 * Context keys (`cdk -c key=value`, or CDK_CONTEXT_JSON for plain node):
 *   env            dev | staging | prod (required)
 *   lambdaAssets   directory with <binary>/bootstrap(.zip) (default: the committed placeholders)
 *   backendUrl     the application the API routes lead to (default: none, routes answer 503)
 *   alarmTopicArn  SNS topic every alarm notifies (default: none)
 *   cognigateFile  the generated file (default: infra/cognigate.json)
 */
import * as path from 'node:path';

import { App, Tags } from 'aws-cdk-lib';

import { ApiStack } from './api-stack';
import { CustomerAuthStack, StaffAuthStack } from './auth-stacks';
import { loadCognigateFile } from './cognigate-file';
import { DEPLOYMENT, parseEnvironment, type EnvironmentName } from './environments';
import { SERVICE, stackName } from './naming';
import { BINARIES, lambdaCode, PLACEHOLDER_ASSETS } from './rust-lambda';
import { TriggersStack } from './triggers-stack';

/** `infra/cognigate.json`, from `infra/cdk/dist/lib`. */
export const DEFAULT_COGNIGATE_FILE = path.resolve(__dirname, '..', '..', '..', 'cognigate.json');

export interface CognigateStacks {
  readonly env: EnvironmentName;
  readonly customerAuth: CustomerAuthStack;
  readonly staffAuth: StaffAuthStack;
  readonly triggers: TriggersStack;
  readonly api: ApiStack;
}

export function addCognigateStacks(app: App): CognigateStacks {
  const env = parseEnvironment(app.node.tryGetContext('env'));
  const file = optionalString(app, 'cognigateFile') ?? DEFAULT_COGNIGATE_FILE;
  const cognigate = loadCognigateFile(file);
  const settings = cognigate.environments[env];
  const deployment = DEPLOYMENT[env];
  const assets = { root: path.resolve(optionalString(app, 'lambdaAssets') ?? PLACEHOLDER_ASSETS) };
  // Checked before any stack exists, so a missing binary is reported once and first.
  for (const binary of BINARIES) {
    lambdaCode(assets, binary);
  }
  const alarmTopicArn = optionalString(app, 'alarmTopicArn');
  const awsEnv = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };

  const customerAuth = new CustomerAuthStack(app, stackName(env, 'customerAuth'), {
    env: awsEnv,
    stackName: stackName(env, 'customerAuth'),
    description: `cognigate ${env}: the Customers user pool, its app client and groups`,
    envName: env,
    pool: settings.pools.customer,
    deployment,
  });
  const staffAuth = new StaffAuthStack(app, stackName(env, 'staffAuth'), {
    env: awsEnv,
    stackName: stackName(env, 'staffAuth'),
    description: `cognigate ${env}: the Staff user pool, its app client and groups`,
    envName: env,
    pool: settings.pools.staff,
    deployment,
  });
  const triggers = new TriggersStack(app, stackName(env, 'triggers'), {
    env: awsEnv,
    stackName: stackName(env, 'triggers'),
    description: `cognigate ${env}: the Cognito triggers function of both pools`,
    envName: env,
    deployment,
    lambdaAssets: assets,
    alarmTopicArn,
  });
  const api = new ApiStack(app, stackName(env, 'api'), {
    env: awsEnv,
    stackName: stackName(env, 'api'),
    description: `cognigate ${env}: REST API with the cognigate authorizer, throttling, WAF, logs and alarms`,
    envName: env,
    routes: settings.routes,
    throttling: settings.throttling,
    deployment,
    lambdaAssets: assets,
    backendUrl: optionalString(app, 'backendUrl'),
    alarmTopicArn,
  });

  // Both Lambdas import the pools' exported ids.
  for (const dependent of [triggers, api]) {
    dependent.addStackDependency(customerAuth, 'imports the customer pool and client ids');
    dependent.addStackDependency(staffAuth, 'imports the staff pool and client ids');
  }

  for (const stack of [customerAuth, staffAuth, triggers, api]) {
    Tags.of(stack).add('service', SERVICE);
    Tags.of(stack).add('environment', env);
    // `service.name` of cognigate.toml: which installation of cognigate this is.
    Tags.of(stack).add('installation', cognigate.service);
  }
  return { env, customerAuth, staffAuth, triggers, api };
}

function optionalString(app: App, key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === '') {
    return undefined;
  }
  if (typeof value !== 'string') {
    throw new Error(`context ${key} must be a string, found ${JSON.stringify(value)}`);
  }
  return value;
}
