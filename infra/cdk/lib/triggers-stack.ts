/**
 * The `cognigate-triggers` function of an environment: one function for the four Cognito triggers of both
 * pools, which tells the pools apart by the event's `userPoolId` against the pool ids it is configured with.
 *
 * It is a stack of its own, deployed after both auth stacks, because it needs their pool ids while their
 * pools name it as their trigger: the pools write its ARN out from its name (user-pool.ts), and this stack
 * imports their ids. Until this stack exists, on the very first deployment only, the pools' triggers point
 * at a function that is not there yet and sign-ups fail; deploy all stacks together (`cdk deploy --all`).
 */
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';

import { POOL_KINDS } from './cognigate-file';
import type { DeploymentSettings, EnvironmentName } from './environments';
import { resourceName } from './naming';
import { RustLambda, TRIGGERS_FUNCTION, type LambdaAssets } from './rust-lambda';
import { importedPoolArn, importedPoolEnvironment } from './user-pool';

export interface TriggersStackProps extends StackProps {
  readonly envName: EnvironmentName;
  readonly deployment: DeploymentSettings;
  readonly lambdaAssets: LambdaAssets;
  /** SNS topic the trigger alarm notifies. */
  readonly alarmTopicArn: string | undefined;
}

export class TriggersStack extends Stack {
  readonly triggers: RustLambda;

  constructor(scope: Construct, id: string, props: TriggersStackProps) {
    super(scope, id, props);
    const { envName: env, deployment } = props;

    this.triggers = new RustLambda(this, 'Triggers', {
      env,
      deployment,
      binary: 'cognigate-triggers',
      assets: props.lambdaAssets,
      name: TRIGGERS_FUNCTION,
      description: `${env} Cognito triggers of both pools: PreSignUp, PostConfirmation, PreTokenGeneration (V2_0), PostAuthentication`,
      // Cognito gives a trigger 5 seconds and then fails the user's request.
      timeout: Duration.seconds(5),
      reservedConcurrency: deployment.triggersReservedConcurrency,
      environment: {
        ...importedPoolEnvironment(this, env, 'customer'),
        ...importedPoolEnvironment(this, env, 'staff'),
      },
    });

    const pools = POOL_KINDS.map((kind) => importedPoolArn(env, kind));
    // PostConfirmation gives a new account its base type and onboarding state (custom:base_type,
    // custom:onboarding) and puts it in its pool's default group. IAM cannot narrow
    // AdminUpdateUserAttributes to some attributes: the action on the two pools is the whole grant.
    new iam.Policy(this, 'ConfirmAccounts', {
      roles: [this.triggers.role],
      statements: [
        new iam.PolicyStatement({
          actions: ['cognito-idp:AdminAddUserToGroup', 'cognito-idp:AdminUpdateUserAttributes'],
          resources: pools,
        }),
      ],
    });
    for (const kind of POOL_KINDS) {
      this.triggers.function.addPermission(`InvokedBy${kind === 'customer' ? 'Customer' : 'Staff'}Pool`, {
        principal: new iam.ServicePrincipal('cognito-idp.amazonaws.com'),
        action: 'lambda:InvokeFunction',
        sourceArn: importedPoolArn(env, kind),
        sourceAccount: Stack.of(this).account,
      });
    }

    const alarm = new cloudwatch.Alarm(this, 'TriggersErrors', {
      alarmName: resourceName(env, 'triggers-errors'),
      alarmDescription: 'A trigger failed: Cognito refused the sign-up, confirmation or sign-in it ran for.',
      metric: this.triggers.function.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopicArn !== undefined) {
      alarm.addAlarmAction(
        new actions.SnsAction(sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn)),
      );
    }
  }
}
