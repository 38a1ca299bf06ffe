/**
 * A Lambda function running one of cognigate's Rust binaries, with its own role and log group.
 *
 * The binaries are built outside CDK (`scripts/lambda-build`, cargo-lambda) and only picked up here, so a
 * synth never compiles Rust and tests run on a placeholder. The role is written out instead of using
 * `AWSLambdaBasicExecutionRole`: that managed policy lets a function write to every log group in the account,
 * this one only to its own.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { Aws, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

import type { DeploymentSettings, EnvironmentName } from './environments';
import { resourceName } from './naming';

export const BINARIES = ['cognigate-authorizer', 'cognigate-triggers'] as const;
export type Binary = (typeof BINARIES)[number];

/** The resource part of the name of the one triggers function of an environment (both pools). */
export const TRIGGERS_FUNCTION = 'triggers';

/**
 * The ARN a function will have, written out from its conventional name, for references that must not make
 * CloudFormation wait for the function (the pools' triggers: the function in turn waits for the pools).
 */
export function functionArn(env: EnvironmentName, name: string): string {
  return `arn:${Aws.PARTITION}:lambda:${Aws.REGION}:${Aws.ACCOUNT_ID}:function:${resourceName(env, name)}`;
}

/** The committed placeholder assets: a `bootstrap` per binary that only says it is not the real one. */
export const PLACEHOLDER_ASSETS = path.resolve(__dirname, '..', '..', 'lambda-placeholder');

/** Where the binaries come from: the placeholder directory, or a cargo-lambda output directory. */
export interface LambdaAssets {
  /** A directory holding `<binary>/bootstrap` or `<binary>/bootstrap.zip` for each binary. */
  readonly root: string;
}

/** The asset of one binary is missing or incomplete. */
export class LambdaAssetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LambdaAssetError';
  }
}

/**
 * The code of one binary. A real build must carry `cognigate.toml` beside `bootstrap` (the binary reads it
 * from `/var/task/cognigate.toml`); only the placeholder may go without.
 */
export function lambdaCode(assets: LambdaAssets, binary: Binary): lambda.Code {
  const directory = path.resolve(assets.root, binary);
  const zip = path.join(directory, 'bootstrap.zip');
  const bootstrap = path.join(directory, 'bootstrap');
  const placeholder = path.resolve(assets.root) === PLACEHOLDER_ASSETS;
  const hint = 'build the Lambdas with scripts/lambda-build and pass -c lambdaAssets=<its output directory>';
  if (fs.existsSync(zip)) {
    // The configuration sits in the archive's central directory as a plain file name.
    if (!placeholder && !fs.readFileSync(zip).includes('cognigate.toml')) {
      throw new LambdaAssetError(`${zip} has no cognigate.toml beside bootstrap; ${hint}`);
    }
    return lambda.Code.fromAsset(zip);
  }
  if (fs.existsSync(bootstrap)) {
    if (!placeholder && !fs.existsSync(path.join(directory, 'cognigate.toml'))) {
      throw new LambdaAssetError(`${directory} has no cognigate.toml beside bootstrap; ${hint}`);
    }
    return lambda.Code.fromAsset(directory);
  }
  throw new LambdaAssetError(`${directory} has neither bootstrap nor bootstrap.zip; ${hint}`);
}

export interface RustLambdaProps {
  readonly env: EnvironmentName;
  readonly deployment: DeploymentSettings;
  readonly binary: Binary;
  readonly assets: LambdaAssets;
  /** The resource part of the function's name: `authorizer` gives `<env>-cognigate-authorizer`. */
  readonly name: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly reservedConcurrency: number | undefined;
  readonly environment: Readonly<Record<string, string>>;
}

export class RustLambda extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RustLambdaProps) {
    super(scope, id);
    const functionName = resourceName(props.env, props.name);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: resourceName(props.env, `${props.name}-logs`),
      retention: props.deployment.logRetention,
      removalPolicy: props.deployment.removalPolicy,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${functionName}: writes its own log group, nothing else unless granted`,
    });
    const logWriting = new iam.Policy(this, 'WriteOwnLogs', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          // `arn:...:log-group:<name>:*`: the streams of this one group (Lambda names them itself).
          resources: [this.logGroup.logGroupArn],
        }),
      ],
    });

    this.function = new lambda.Function(this, 'Function', {
      functionName,
      description: props.description,
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: lambda.Architecture.X86_64,
      handler: 'bootstrap',
      code: lambdaCode(props.assets, props.binary),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      memorySize: 256,
      timeout: props.timeout,
      reservedConcurrentExecutions: props.reservedConcurrency,
      environment: { COGNIGATE_ENV: props.env, ...props.environment },
    });
    // The log permissions must exist before the function's first start, or its first logs are lost.
    this.function.node.addDependency(logWriting);

    if (props.reservedConcurrency === undefined) {
      // Per resource rather than in the global skip list: staging and prod do reserve, and checkov must say
      // so if they stop.
      (this.function.node.defaultChild as lambda.CfnFunction).addMetadata('checkov', {
        skip: [
          {
            id: 'CKV_AWS_115',
            comment: `${props.env} reserves no concurrency: new accounts may have a quota of 10, below which none can be reserved`,
          },
        ],
      });
    }
  }
}
