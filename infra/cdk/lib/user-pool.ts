/**
 * One Cognito user pool as `infra/cognigate.json` describes it: schema, password and MFA rules, groups, the
 * app client cognigate signs in through, the four triggers, and the outputs `cognigate serve` is configured
 * from.
 *
 * Both auth stacks build their pool here, so the customer and staff pools can only differ where the file (or
 * the stack, for what the file does not carry) says they do.
 *
 * The triggers point at the one `cognigate-triggers` function of the environment by its ARN, written out
 * from the function's conventional name rather than referenced: the function needs both pools' ids, so a
 * reference each way would be a cycle. The function lives in the triggers stack, deployed right after the
 * pools (see triggers-stack.ts).
 */
import { Aws, CfnOutput, Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

import type {
  CustomAttributeSettings,
  PoolKind,
  PoolSettings,
  StandardAttributeSettings,
} from './cognigate-file';
import type { DeploymentSettings, EnvironmentName } from './environments';
import { resourceName } from './naming';
import { functionArn, TRIGGERS_FUNCTION } from './rust-lambda';

/** Cognito's (OIDC) standard attribute names → the CDK's property names. */
const STANDARD_ATTRIBUTES: { readonly [oidc: string]: keyof cognito.StandardAttributes } = {
  address: 'address',
  birthdate: 'birthdate',
  email: 'email',
  family_name: 'familyName',
  gender: 'gender',
  given_name: 'givenName',
  locale: 'locale',
  middle_name: 'middleName',
  name: 'fullname',
  nickname: 'nickname',
  phone_number: 'phoneNumber',
  picture: 'profilePicture',
  preferred_username: 'preferredUsername',
  profile: 'profilePage',
  zoneinfo: 'timezone',
  updated_at: 'lastUpdateTime',
  website: 'website',
};

/** The configuration variables of `cognigate serve` that one pool's outputs feed, in output order. */
export function poolVariables(kind: PoolKind): {
  readonly provider: string;
  readonly userPoolId: string;
  readonly clientId: string;
  readonly region: string;
} {
  const prefix = `COGNIGATE_POOLS__${kind.toUpperCase()}`;
  return {
    provider: `${prefix}__PROVIDER`,
    userPoolId: `${prefix}__COGNITO__USER_POOL_ID`,
    clientId: `${prefix}__COGNITO__CLIENT_ID`,
    region: `${prefix}__COGNITO__REGION`,
  };
}

/**
 * The export names under which a pool's id and client id are shared with the API stack. Named exports (not
 * the CDK's generated ones) keep each auth stack's outputs to exactly the variables they feed.
 */
export function poolExports(
  env: EnvironmentName,
  kind: PoolKind,
): { readonly userPoolId: string; readonly clientId: string } {
  return {
    userPoolId: resourceName(env, `${kind}-user-pool-id`),
    clientId: resourceName(env, `${kind}-client-id`),
  };
}

/**
 * A Lambda's configuration of one pool, as `cognigate` reads it from `COGNIGATE_*` variables, with the ids
 * imported from the pool's auth stack (which must therefore be deployed first). `scope` must be in the same
 * account and region as the pool.
 */
export function importedPoolEnvironment(
  scope: Construct,
  env: EnvironmentName,
  kind: PoolKind,
): Record<string, string> {
  const variables = poolVariables(kind);
  const exports = poolExports(env, kind);
  return {
    [variables.provider]: 'cognito',
    [variables.userPoolId]: Fn.importValue(exports.userPoolId),
    [variables.clientId]: Fn.importValue(exports.clientId),
    [variables.region]: Stack.of(scope).region,
  };
}

/** The ARN of a pool, from its imported id. */
export function importedPoolArn(env: EnvironmentName, kind: PoolKind): string {
  const id = Fn.importValue(poolExports(env, kind).userPoolId);
  return `arn:${Aws.PARTITION}:cognito-idp:${Aws.REGION}:${Aws.ACCOUNT_ID}:userpool/${id}`;
}

/**
 * The custom attributes cognigate decides a user's access by, in every pool: the role, base type, tier and
 * team, and the onboarding state (`custom:onboarding`), which the PreTokenGeneration trigger reads to decide
 * whether a token carries a role and permissions at all. Only the service and the triggers write them, with
 * administrator credentials.
 */
export const ADMIN_ONLY_ATTRIBUTES = ['role', 'base_type', 'tier', 'team', 'onboarding'] as const;

export interface CognigateUserPoolProps {
  readonly env: EnvironmentName;
  readonly kind: PoolKind;
  readonly settings: PoolSettings;
  readonly deployment: DeploymentSettings;
  /** Threat protection: feature plan PLUS with standard threat protection enforced. */
  readonly threatProtection: boolean;
  /** Whether the app client is confidential (has a secret, and callers send SECRET_HASH). */
  readonly clientSecret: boolean;
}

export class CognigateUserPool extends Construct {
  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;

  constructor(scope: Construct, id: string, props: CognigateUserPoolProps) {
    super(scope, id);
    const { env, kind, settings, deployment } = props;
    refuseWritableAccessAttributes(env, kind, settings);

    this.userPool = new cognito.UserPool(this, 'UserPool', {
      userPoolName: resourceName(env, kind),
      selfSignUpEnabled: settings.selfSignUp,
      signInAliases: { email: true, username: false },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      // A changed email address only takes effect once the new one is verified.
      keepOriginal: { email: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      standardAttributes: standardAttributes(settings.standardAttributes),
      customAttributes: customAttributes(settings.customAttributes),
      mfa: { OFF: cognito.Mfa.OFF, OPTIONAL: cognito.Mfa.OPTIONAL, ON: cognito.Mfa.REQUIRED }[settings.mfa],
      mfaSecondFactor:
        settings.mfa === 'OFF'
          ? undefined
          : {
              otp: settings.mfaMethods.includes('SOFTWARE_TOKEN_MFA'),
              sms: settings.mfaMethods.includes('SMS_MFA'),
            },
      passwordPolicy: {
        minLength: settings.password.minLength,
        requireLowercase: settings.password.requireLowercase,
        requireUppercase: settings.password.requireUppercase,
        requireDigits: settings.password.requireDigits,
        requireSymbols: settings.password.requireSymbols,
        tempPasswordValidity: Duration.days(settings.password.temporaryPasswordValidityDays),
      },
      featurePlan: props.threatProtection ? cognito.FeaturePlan.PLUS : cognito.FeaturePlan.ESSENTIALS,
      standardThreatProtectionMode: props.threatProtection
        ? cognito.StandardThreatProtectionMode.FULL_FUNCTION
        : undefined,
      deletionProtection: deployment.userPoolDeletionProtection,
      removalPolicy: deployment.removalPolicy,
    });

    // LambdaConfig written on the CloudFormation resource: `addTrigger` would also add the invoke
    // permission here, before the function exists. The triggers stack grants it.
    const triggers = functionArn(env, TRIGGERS_FUNCTION);
    (this.userPool.node.defaultChild as cognito.CfnUserPool).addPropertyOverride('LambdaConfig', {
      PreSignUp: triggers,
      PostConfirmation: triggers,
      PostAuthentication: triggers,
      PreTokenGenerationConfig: { LambdaArn: triggers, LambdaVersion: cognito.LambdaVersion.V2_0 },
    });

    for (const group of settings.groups) {
      this.userPool.addGroup(`Group-${group.name}`, {
        groupName: group.name,
        description: group.description,
        precedence: group.precedence,
      });
    }

    this.client = this.userPool.addClient('Client', {
      userPoolClientName: resourceName(env, `${kind}-client`),
      generateSecret: props.clientSecret,
      // cognigate's cognito provider signs in with USER_PASSWORD_AUTH; SRP is for SDK clients that talk to
      // Cognito directly. How it refreshes follows the client's rotation setting, which it reads with
      // DescribeUserPoolClient: GetTokensFromRefreshToken when the client rotates refresh tokens,
      // REFRESH_TOKEN_AUTH otherwise.
      authFlows: { userPassword: true, userSrp: true },
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.minutes(settings.tokens.accessMinutes),
      idTokenValidity: Duration.minutes(settings.tokens.idMinutes),
      refreshTokenValidity: Duration.minutes(settings.tokens.refreshMinutes),
      // Rotation (RefreshTokenRotation: Feature ENABLED, RetryGracePeriodSeconds) as the file says. Cognito
      // refuses REFRESH_TOKEN_AUTH on a rotating client, and the CDK then leaves ALLOW_REFRESH_TOKEN_AUTH out
      // of the client's flows; without rotation the CDK allows it, as it always has.
      refreshTokenRotationGracePeriod: settings.tokens.rotateRefresh
        ? Duration.seconds(settings.tokens.rotationGraceSeconds)
        : undefined,
      writeAttributes: clientWriteAttributes(settings),
    });

    this.acknowledgeNagFindings(props);
    this.addOutputs(env, kind);
  }

  private acknowledgeNagFindings(props: CognigateUserPoolProps): void {
    const { settings, kind, env } = props;
    const pool = Validations.of(this.userPool);
    if (settings.mfa !== 'ON') {
      pool.acknowledge({
        id: 'AwsSolutions-COG2',
        reason:
          `MFA is ${settings.mfa} in the ${kind} pool by product decision (cognigate.toml, pools.${kind}.mfa): ` +
          'members of the public enrol a second factor when they choose to, and onboarding gates can require it.',
      });
    }
    // AWS Solutions' COG1: at least 8 characters with upper case, digits and symbols all required.
    const password = settings.password;
    const relaxed = [
      password.requireUppercase ? '' : 'no forced upper case',
      password.requireDigits ? '' : 'no forced digits',
      password.requireSymbols ? '' : 'no forced symbols',
    ].filter((item) => item !== '');
    if (password.minLength < 8 || relaxed.length > 0) {
      pool.acknowledge({
        id: 'AwsSolutions-COG1',
        reason:
          `the ${kind} password policy is cognigate.toml's (pools.${kind}.password: ${password.minLength} ` +
          `characters minimum${relaxed.map((item) => `, ${item}`).join('')}): length over forced composition (NIST SP 800-63B), ` +
          "with cognigate's lockout and rate limits against guessing.",
      });
    }
    if (!props.threatProtection) {
      pool.acknowledge({
        id: 'AwsSolutions-COG8',
        reason:
          kind === 'customer'
            ? 'the customer pool stays on the ESSENTIALS plan: PLUS is billed per monthly active user, and ' +
              'cognigate already rate-limits and locks out per address and account in front of Cognito.'
            : `the ${env} staff pool holds test staff only; threat protection (PLUS, enforced) is bought for ` +
              'staging and prod.',
      });
    }
    if (settings.mfaMethods.includes('SMS_MFA')) {
      // The CDK creates the role Cognito sends SMS through; publishing to a phone number has no resource ARN.
      Validations.of(this.userPool).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'sns:Publish to a phone number has no resource ARN to name; the role is assumable by Cognito only.',
      });
    }
  }

  private addOutputs(env: EnvironmentName, kind: PoolKind): void {
    const variables = poolVariables(kind);
    const exports = poolExports(env, kind);
    const label = kind.charAt(0).toUpperCase() + kind.slice(1);
    new CfnOutput(this, 'Provider', {
      key: `${label}Provider`,
      description: variables.provider,
      value: 'cognito',
    });
    new CfnOutput(this, 'UserPoolId', {
      key: `${label}UserPoolId`,
      description: variables.userPoolId,
      value: this.userPool.userPoolId,
      exportName: exports.userPoolId,
    });
    new CfnOutput(this, 'ClientId', {
      key: `${label}ClientId`,
      description: variables.clientId,
      value: this.client.userPoolClientId,
      exportName: exports.clientId,
    });
    new CfnOutput(this, 'Region', {
      key: `${label}Region`,
      description: variables.region,
      value: Stack.of(this).region,
    });
  }
}

function standardAttributes(attributes: readonly StandardAttributeSettings[]): cognito.StandardAttributes {
  const result: { [key: string]: cognito.StandardAttribute } = {};
  for (const attribute of attributes) {
    result[standardAttributeKey(attribute.name)] = {
      required: attribute.required,
      mutable: attribute.mutable,
    };
  }
  return result as cognito.StandardAttributes;
}

function standardAttributeKey(name: string): keyof cognito.StandardAttributes {
  const key = STANDARD_ATTRIBUTES[name];
  if (key === undefined) {
    throw new Error(
      `\`${name}\` is not one of Cognito's standard attributes (${Object.keys(STANDARD_ATTRIBUTES).join(', ')})`,
    );
  }
  return key;
}

function customAttributes(attributes: readonly CustomAttributeSettings[]): {
  [name: string]: cognito.ICustomAttribute;
} {
  const result: { [name: string]: cognito.ICustomAttribute } = {};
  for (const attribute of attributes) {
    result[attribute.name] =
      attribute.type === 'String'
        ? new cognito.StringAttribute({
            minLen: attribute.minLength,
            maxLen: attribute.maxLength,
            mutable: attribute.mutable,
          })
        : new cognito.NumberAttribute({ min: attribute.min, max: attribute.max, mutable: attribute.mutable });
  }
  return result;
}

/**
 * What an app client may write: every attribute except the admin-only ones (role, base type, tier, team,
 * onboarding state) that only the service and the triggers set with administrator credentials.
 *
 * Immutable attributes (the customer's `company_name` and `vat_number`) stay writable on purpose: Cognito
 * sets an immutable attribute only when the user is created, at sign-up only if the client may write it, and
 * refuses every change afterwards, whoever asks. Leaving them out would make every sign-up that carries them
 * fail. The Terraform module (infra/terraform/modules/cognito, `local.write_attributes`) has the same rule.
 */
function clientWriteAttributes(settings: PoolSettings): cognito.ClientAttributes {
  const mask: { [key: string]: boolean } = {};
  for (const attribute of settings.standardAttributes) {
    mask[standardAttributeKey(attribute.name)] = true;
  }
  const custom = settings.customAttributes.filter((a) => !a.adminOnly).map((a) => a.name);
  return new cognito.ClientAttributes().withStandardAttributes(mask).withCustomAttributes(...custom);
}

/**
 * Refuses a pool whose file lacks one of the attributes cognigate decides access by, or lets its app client
 * write one: a user could then give themselves a role, or mark their own account active. The Terraform
 * module validates the same (`var.custom_attributes`).
 */
function refuseWritableAccessAttributes(env: EnvironmentName, kind: PoolKind, settings: PoolSettings): void {
  const refused = ADMIN_ONLY_ATTRIBUTES.filter(
    (name) => !settings.customAttributes.some((a) => a.name === name && a.type === 'String' && a.adminOnly),
  );
  if (refused.length > 0) {
    throw new Error(
      `${env}: the ${kind} pool in infra/cognigate.json is refused: ` +
        `${refused.map((name) => `custom:${name}`).join(', ')} must be present, of type String and admin-only ` +
        '(cognigate decides access by them; app clients must not write them)',
    );
  }
}
