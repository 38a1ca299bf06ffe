/**
 * The two identity stacks. They are deployed, and may be destroyed, independently of the API in front of the
 * application: a pool holds every account of its population, and changing one must never touch the other.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

import type { PoolSettings } from './cognigate-file';
import type { DeploymentSettings, EnvironmentName } from './environments';
import { CognigateUserPool } from './user-pool';

export interface AuthStackProps extends StackProps {
  readonly envName: EnvironmentName;
  readonly pool: PoolSettings;
  readonly deployment: DeploymentSettings;
}

/** The Customers pool: the public signs itself up; MFA, passwords and lifetimes as the file says. */
export class CustomerAuthStack extends Stack {
  readonly pool: CognigateUserPool;

  constructor(scope: Construct, id: string, props: AuthStackProps) {
    super(scope, id, props);
    if (props.pool.autoConfirm && props.envName !== 'dev') {
      throw new Error(`${props.envName}: the customer pool may auto-confirm sign-ups in dev only`);
    }
    this.pool = new CognigateUserPool(this, 'Customer', {
      env: props.envName,
      kind: 'customer',
      settings: props.pool,
      deployment: props.deployment,
      threatProtection: false,
      // The cognigate.toml of staging and prod configures the customer client without a secret.
      clientSecret: false,
    });
  }
}

/**
 * The Staff pool: accounts only by invitation, TOTP always required, threat protection wherever real staff
 * sign in. The file must agree; a staff pool that anyone can join or that lets a password alone in is refused
 * here rather than deployed.
 */
export class StaffAuthStack extends Stack {
  readonly pool: CognigateUserPool;

  constructor(scope: Construct, id: string, props: AuthStackProps) {
    super(scope, id, props);
    const settings = props.pool;
    const refusals: string[] = [];
    if (settings.selfSignUp) {
      refusals.push('selfSignUp must be false (staff are invited)');
    }
    if (settings.mfa !== 'ON') {
      refusals.push(`mfa must be ON, not ${settings.mfa}`);
    }
    if (settings.mfaMethods.length !== 1 || settings.mfaMethods[0] !== 'SOFTWARE_TOKEN_MFA') {
      refusals.push(
        `mfaMethods must be [SOFTWARE_TOKEN_MFA] (TOTP only), not [${settings.mfaMethods.join(', ')}]`,
      );
    }
    if (refusals.length > 0) {
      throw new Error(
        `${props.envName}: the staff pool in infra/cognigate.json is refused: ${refusals.join('; ')}`,
      );
    }
    this.pool = new CognigateUserPool(this, 'Staff', {
      env: props.envName,
      kind: 'staff',
      settings,
      deployment: props.deployment,
      threatProtection: props.deployment.staffThreatProtection,
      // cognigate.toml gives the staff client a secret in staging and prod (COGNIGATE_SECRET_STAFF_CLIENT):
      // the staff pool is only ever used through cognigate's server, a confidential client.
      clientSecret: true,
    });
  }
}
