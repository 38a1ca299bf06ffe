/**
 * cdk-nag (AWS Solutions) on the real entry point, `bin/app.js`, per environment.
 *
 * Two synths each: the app as deployed must leave zero findings; and with acknowledgements switched off the
 * findings must be exactly the ones the app acknowledges, so none is stale, none hides a second finding, and
 * the rule pack is really registered.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

import { addCognigateStacks } from '../lib/app';
import type { EnvironmentSettings, PasswordPolicySettings } from '../lib/cognigate-file';
import { DEPLOYMENT, ENVIRONMENTS, type EnvironmentName } from '../lib/environments';
import { FILE, editedFile, runApp } from './support';

interface Report {
  readonly pluginReports: readonly {
    readonly pluginName: string;
    readonly violations: readonly {
      readonly ruleName: string;
      readonly violatingConstructs: readonly { readonly constructPath: string }[];
    }[];
  }[];
}

/**
 * The findings of one synth. With `keepIn`, the cloud assembly stays there (scripts/cdk-tests lints and scans
 * it instead of synthesizing each environment a second time); otherwise it is removed.
 */
async function findings(env: EnvironmentName, nodeOptions: string[], keepIn?: string): Promise<string[]> {
  const run = await runApp(
    { env, '@aws-cdk/core:failSynthOnValidationErrors': false },
    { nodeOptions, outdir: keepIn },
  );
  assert.equal(run.status, 0, run.stderr);
  const report = JSON.parse(
    fs.readFileSync(path.join(run.outdir, 'validation-report.json'), 'utf8'),
  ) as Report;
  if (keepIn === undefined) {
    fs.rmSync(run.outdir, { recursive: true, force: true });
  }
  return report.pluginReports
    .flatMap((plugin) => plugin.violations)
    .flatMap((violation) =>
      violation.violatingConstructs.map((c) => `${violation.ruleName} ${c.constructPath}`),
    )
    .sort();
}

/** AWS Solutions' COG1: length 8 and upper case, digits and symbols all required (lower case is not checked). */
function weakForNag(password: PasswordPolicySettings): boolean {
  return !(
    password.minLength >= 8 &&
    password.requireUppercase &&
    password.requireDigits &&
    password.requireSymbols
  );
}

/** What the app acknowledges, from the same file and deployment table it is built from. */
function acknowledged(env: EnvironmentName, settings: EnvironmentSettings): string[] {
  const customerPool = `${env}-cognigate-customer-auth/Customer/UserPool/Resource`;
  const staffPool = `${env}-cognigate-staff-auth/Staff/UserPool/Resource`;
  const expected: string[] = [];
  for (const [pool, kind] of [
    [customerPool, 'customer'],
    [staffPool, 'staff'],
  ] as const) {
    const poolSettings = settings.pools[kind];
    if (poolSettings.mfa !== 'ON') {
      expected.push(`AwsSolutions-COG2 ${pool}`);
    }
    if (weakForNag(poolSettings.password)) {
      expected.push(`AwsSolutions-COG1 ${pool}`);
    }
  }
  expected.push(`AwsSolutions-COG8 ${customerPool}`);
  if (!DEPLOYMENT[env].staffThreatProtection) {
    expected.push(`AwsSolutions-COG8 ${staffPool}`);
  }
  for (const route of settings.routes) {
    const method = route.method === '*' ? 'ANY' : route.method;
    expected.push(
      `AwsSolutions-COG4 ${env}-cognigate-api/Api/Default${route.apiGatewayPath}/${method}/Resource`,
    );
  }
  expected.push(
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*] ' +
      `${env}-cognigate-api/ApiGatewayLoggingRole/Resource`,
  );
  return expected.sort();
}

const IGNORE_ACKNOWLEDGEMENTS = path.join(__dirname, 'ignore-acknowledgements.js');

/** Set by scripts/cdk-tests: where the deployable synth of each environment is kept for cfn-lint and checkov. */
const KEEP_SYNTH_IN = process.env.COGNIGATE_CDK_SYNTH_DIR;

// Two synths at a time: each is one single-threaded node process.
describe('cdk-nag (AwsSolutionsChecks in bin/app.js)', { concurrency: 2 }, () => {
  for (const env of ENVIRONMENTS) {
    it(`${env}: leaves zero unacknowledged findings`, async () => {
      const keepIn = KEEP_SYNTH_IN === undefined ? undefined : path.join(KEEP_SYNTH_IN, env);
      assert.deepEqual(await findings(env, [], keepIn), []);
    });

    it(`${env}: acknowledges exactly the findings it has, no stale and no extra ones`, async () => {
      assert.deepEqual(
        await findings(env, ['--require', IGNORE_ACKNOWLEDGEMENTS]),
        acknowledged(env, FILE.environments[env]),
      );
    });
  }
});

describe('cdk-nag on settings the committed file does not have (in process)', () => {
  it('accepts SMS as a customer second factor: the SMS role’s wildcard is acknowledged', () => {
    const file = editedFile((json) => {
      json.environments.prod.pools.customer.mfaMethods = ['SOFTWARE_TOKEN_MFA', 'SMS_MFA'];
      json.environments.prod.pools.customer.mfa = 'ON';
      json.environments.prod.pools.customer.password.minLength = 6;
    });
    const app = new App({ context: { env: 'prod', cognigateFile: file } });
    addCognigateStacks(app);
    const report = new AwsSolutionsChecks(app).validateScope(app);
    assert.deepEqual(
      report.violations.map((violation) => violation.ruleName),
      [],
    );
  });
});
