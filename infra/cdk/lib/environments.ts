/**
 * What differs between dev, staging and prod that is a property of the deployment rather than of the product.
 *
 * Pools, groups, lifetimes, routes and throttles belong to the product and come from `infra/cognigate.json`;
 * how long logs are kept, whether a pool survives its stack, or whether threat protection is bought are
 * operational choices per account, so they live here, in one table, instead of being scattered as `if (prod)`.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

/** An `env` context value that is not one of the three environments. */
export class UnknownEnvironmentError extends Error {
  constructor(value: unknown) {
    const shown = value === undefined ? 'no environment' : `unknown environment ${JSON.stringify(value)}`;
    super(
      `${shown}: pass -c env=<${ENVIRONMENTS.join('|')}> (cdk) or CDK_CONTEXT_JSON='{"env":"dev"}' (node)`,
    );
    this.name = 'UnknownEnvironmentError';
  }
}

export function parseEnvironment(value: unknown): EnvironmentName {
  if (typeof value === 'string' && (ENVIRONMENTS as readonly string[]).includes(value)) {
    return value as EnvironmentName;
  }
  throw new UnknownEnvironmentError(value);
}

export interface DeploymentSettings {
  /** What happens to user pools and log groups when their stack is deleted or they are replaced. */
  readonly removalPolicy: RemovalPolicy;
  /** Cognito refuses DeleteUserPool while this is on, whoever asks. */
  readonly userPoolDeletionProtection: boolean;
  /** Threat protection (feature plan PLUS, enforced) on the staff pool. Billed per monthly active user. */
  readonly staffThreatProtection: boolean;
  readonly logRetention: RetentionDays;
  /**
   * Reserved concurrency per Lambda, or undefined for none. New AWS accounts can have a concurrency quota
   * as low as 10, below which nothing can be reserved, so dev reserves nothing.
   */
  readonly authorizerReservedConcurrency: number | undefined;
  readonly triggersReservedConcurrency: number | undefined;
  /**
   * How long API Gateway keeps an authorizer answer for one token on one route. A revoked token keeps
   * working for at most this long; longer means fewer Lambda invocations.
   */
  readonly authorizerCacheTtl: Duration;
  /** Alarm when more than this fraction of requests answer 4XX (throttling, refused tokens) ... */
  readonly clientErrorRateAlarm: number;
  /** ... or 5XX. */
  readonly serverErrorRateAlarm: number;
}

export const DEPLOYMENT: { readonly [E in EnvironmentName]: DeploymentSettings } = {
  dev: {
    removalPolicy: RemovalPolicy.DESTROY,
    userPoolDeletionProtection: false,
    staffThreatProtection: false,
    logRetention: RetentionDays.TWO_WEEKS,
    authorizerReservedConcurrency: undefined,
    triggersReservedConcurrency: undefined,
    authorizerCacheTtl: Duration.seconds(60),
    clientErrorRateAlarm: 0.25,
    serverErrorRateAlarm: 0.05,
  },
  staging: {
    removalPolicy: RemovalPolicy.DESTROY,
    userPoolDeletionProtection: false,
    staffThreatProtection: true,
    logRetention: RetentionDays.THREE_MONTHS,
    authorizerReservedConcurrency: 20,
    triggersReservedConcurrency: 10,
    authorizerCacheTtl: Duration.seconds(60),
    clientErrorRateAlarm: 0.1,
    serverErrorRateAlarm: 0.01,
  },
  prod: {
    removalPolicy: RemovalPolicy.RETAIN,
    userPoolDeletionProtection: true,
    staffThreatProtection: true,
    logRetention: RetentionDays.ONE_YEAR,
    authorizerReservedConcurrency: 200,
    triggersReservedConcurrency: 50,
    authorizerCacheTtl: Duration.seconds(60),
    clientErrorRateAlarm: 0.05,
    serverErrorRateAlarm: 0.01,
  },
};
