/**
 * The two auth stacks, in every environment, against infra/cognigate.json: what the file says is what gets
 * deployed, and what the stack adds on its own (threat protection, retention, deletion) follows the
 * environment.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Match, type Template } from 'aws-cdk-lib/assertions';

import type { PoolKind, PoolSettings } from '../lib/cognigate-file';
import { ENVIRONMENTS, type EnvironmentName } from '../lib/environments';
import { ADMIN_ONLY_ATTRIBUTES } from '../lib/user-pool';
import { FILE, editedFile, resources, single, templates, type Resource } from './support';

function template(env: EnvironmentName, kind: PoolKind): Template {
  const all = templates(env);
  return kind === 'customer' ? all.customerAuth : all.staffAuth;
}

function pool(env: EnvironmentName, kind: PoolKind): Resource {
  return single(template(env, kind), 'AWS::Cognito::UserPool')[1];
}

for (const env of ENVIRONMENTS) {
  for (const kind of ['customer', 'staff'] as const) {
    const settings: PoolSettings = FILE.environments[env].pools[kind];

    describe(`${env} ${kind} auth stack`, () => {
      it('names the pool and client by the convention', () => {
        assert.equal(pool(env, kind).Properties.UserPoolName, `${env}-cognigate-${kind}`);
        const [, client] = single(template(env, kind), 'AWS::Cognito::UserPoolClient');
        assert.equal(client.Properties.ClientName, `${env}-cognigate-${kind}-client`);
      });

      it('takes MFA from the file', () => {
        const properties = pool(env, kind).Properties;
        assert.equal(properties.MfaConfiguration, settings.mfa);
        if (settings.mfa === 'OFF') {
          assert.equal(properties.EnabledMfas, undefined);
        } else {
          assert.deepEqual([...properties.EnabledMfas].sort(), [...settings.mfaMethods].sort());
        }
      });

      it('takes the password policy from the file', () => {
        const password = settings.password;
        assert.deepEqual(pool(env, kind).Properties.Policies.PasswordPolicy, {
          MinimumLength: password.minLength,
          RequireLowercase: password.requireLowercase,
          RequireUppercase: password.requireUppercase,
          RequireNumbers: password.requireDigits,
          RequireSymbols: password.requireSymbols,
          TemporaryPasswordValidityDays: password.temporaryPasswordValidityDays,
        });
      });

      it('takes sign-up from the file and signs in by email', () => {
        const properties = pool(env, kind).Properties;
        assert.equal(properties.AdminCreateUserConfig.AllowAdminCreateUserOnly, !settings.selfSignUp);
        assert.deepEqual(properties.UsernameAttributes, ['email']);
        assert.deepEqual(properties.AutoVerifiedAttributes, ['email']);
      });

      it('declares the standard and custom attributes of the file', () => {
        const schema: any[] = pool(env, kind).Properties.Schema;
        for (const attribute of settings.standardAttributes) {
          const declared = schema.find((entry) => entry.Name === attribute.name);
          assert.deepEqual(declared, {
            Name: attribute.name,
            Required: attribute.required,
            Mutable: attribute.mutable,
          });
        }
        const custom = schema.filter((entry) => entry.AttributeDataType !== undefined);
        assert.deepEqual(
          custom.map((entry) => entry.Name).sort(),
          settings.customAttributes.map((a) => a.name).sort(),
        );
        for (const attribute of settings.customAttributes) {
          const declared = custom.find((entry) => entry.Name === attribute.name);
          assert.equal(declared.AttributeDataType, attribute.type);
          assert.equal(declared.Mutable, attribute.mutable);
          if (attribute.type === 'String') {
            assert.deepEqual(declared.StringAttributeConstraints, {
              MinLength: String(attribute.minLength),
              MaxLength: String(attribute.maxLength),
            });
          } else {
            assert.deepEqual(declared.NumberAttributeConstraints, {
              MinValue: String(attribute.min),
              MaxValue: String(attribute.max),
            });
          }
        }
      });

      it('keeps the admin-only attributes (role, base_type, tier, team, onboarding) out of the client’s write attributes', () => {
        for (const name of ADMIN_ONLY_ATTRIBUTES) {
          assert.ok(
            settings.customAttributes.some((a) => a.name === name && a.adminOnly),
            `${name} is admin-only`,
          );
        }
        const [, client] = single(template(env, kind), 'AWS::Cognito::UserPoolClient');
        const writable: string[] = client.Properties.WriteAttributes;
        // Every attribute but the admin-only ones, immutable ones included: Cognito sets those at sign-up
        // only, and only through a client that may write them.
        const expectedCustom = settings.customAttributes
          .filter((a) => !a.adminOnly)
          .map((a) => `custom:${a.name}`);
        const expectedStandard = settings.standardAttributes.map((a) => a.name);
        assert.deepEqual([...writable].sort(), [...expectedCustom, ...expectedStandard].sort());
        for (const attribute of settings.customAttributes.filter((a) => a.adminOnly)) {
          assert.ok(
            !writable.includes(`custom:${attribute.name}`),
            `custom:${attribute.name} must not be writable`,
          );
        }
      });

      it('declares custom:onboarding (String, mutable, up to 64 characters) and the client cannot write it', () => {
        const schema: any[] = pool(env, kind).Properties.Schema;
        assert.deepEqual(
          schema.find((entry) => entry.Name === 'onboarding'),
          {
            Name: 'onboarding',
            AttributeDataType: 'String',
            Mutable: true,
            StringAttributeConstraints: { MinLength: '0', MaxLength: '64' },
          },
        );
        const [, client] = single(template(env, kind), 'AWS::Cognito::UserPoolClient');
        assert.ok(!client.Properties.WriteAttributes.includes('custom:onboarding'));
      });

      it('gives the client the file’s token lifetimes, in minutes', () => {
        const [, client] = single(template(env, kind), 'AWS::Cognito::UserPoolClient');
        const properties = client.Properties;
        assert.equal(properties.AccessTokenValidity, settings.tokens.accessMinutes);
        assert.equal(properties.IdTokenValidity, settings.tokens.idMinutes);
        assert.equal(properties.RefreshTokenValidity, settings.tokens.refreshMinutes);
        assert.deepEqual(properties.TokenValidityUnits, {
          AccessToken: 'minutes',
          IdToken: 'minutes',
          RefreshToken: 'minutes',
        });
      });

      it('gives the client password and SRP flows, revocation and no user-existence errors', () => {
        const [, client] = single(template(env, kind), 'AWS::Cognito::UserPoolClient');
        const properties = client.Properties;
        // REFRESH_TOKEN_AUTH only without rotation: Cognito refuses it on a rotating client.
        const refresh = settings.tokens.rotateRefresh ? [] : ['ALLOW_REFRESH_TOKEN_AUTH'];
        assert.deepEqual(
          [...properties.ExplicitAuthFlows].sort(),
          [...refresh, 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH'].sort(),
        );
        assert.equal(properties.PreventUserExistenceErrors, 'ENABLED');
        assert.equal(properties.EnableTokenRevocation, true);
        assert.equal(properties.GenerateSecret, kind === 'staff');
        assert.equal(properties.AllowedOAuthFlowsUserPoolClient, false);
      });

      it(
        settings.tokens.rotateRefresh
          ? `rotates the client’s refresh tokens with the file’s ${settings.tokens.rotationGraceSeconds}-second grace period, without REFRESH_TOKEN_AUTH`
          : 'does not rotate the client’s refresh tokens, and allows REFRESH_TOKEN_AUTH',
        () => {
          const [, client] = single(template(env, kind), 'AWS::Cognito::UserPoolClient');
          const properties = client.Properties;
          if (settings.tokens.rotateRefresh) {
            assert.deepEqual(properties.RefreshTokenRotation, {
              Feature: 'ENABLED',
              RetryGracePeriodSeconds: settings.tokens.rotationGraceSeconds,
            });
            assert.ok(!properties.ExplicitAuthFlows.includes('ALLOW_REFRESH_TOKEN_AUTH'));
          } else {
            assert.equal(properties.RefreshTokenRotation, undefined);
            assert.ok(properties.ExplicitAuthFlows.includes('ALLOW_REFRESH_TOKEN_AUTH'));
          }
        },
      );

      it('creates exactly the file’s groups with their precedence', () => {
        const groups = Object.values(resources(template(env, kind), 'AWS::Cognito::UserPoolGroup')).map(
          (group) => ({
            name: group.Properties.GroupName,
            description: group.Properties.Description,
            precedence: group.Properties.Precedence,
          }),
        );
        const sortByName = (a: { name: string }, b: { name: string }): number => a.name.localeCompare(b.name);
        assert.deepEqual(groups.sort(sortByName), settings.groups.map((g) => ({ ...g })).sort(sortByName));
        if (settings.defaultGroup !== null) {
          assert.ok(groups.some((group) => group.name === settings.defaultGroup));
        }
      });

      it('points all four triggers at the environment’s cognigate-triggers function, PreTokenGeneration as V2_0', () => {
        // Written out from the function's name: the function (triggers stack) imports this pool's id.
        const arn = {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':lambda:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              `:function:${env}-cognigate-triggers`,
            ],
          ],
        };
        assert.deepEqual(pool(env, kind).Properties.LambdaConfig, {
          PreSignUp: arn,
          PostConfirmation: arn,
          PostAuthentication: arn,
          PreTokenGenerationConfig: { LambdaArn: arn, LambdaVersion: 'V2_0' },
        });
      });

      it('holds the pool, its client and groups, and nothing else', () => {
        const types = new Set(Object.values<any>(template(env, kind).toJSON().Resources).map((r) => r.Type));
        assert.deepEqual([...types].sort(), [
          'AWS::Cognito::UserPool',
          'AWS::Cognito::UserPoolClient',
          'AWS::Cognito::UserPoolGroup',
        ]);
      });

      it(
        env === 'prod' ? 'retains the pool, with deletion protection' : 'deletes the pool with its stack',
        () => {
          const resource = pool(env, kind);
          const policy = env === 'prod' ? 'Retain' : 'Delete';
          assert.equal(resource.DeletionPolicy, policy);
          assert.equal(resource.UpdateReplacePolicy, policy);
          assert.equal(resource.Properties.DeletionProtection, env === 'prod' ? 'ACTIVE' : 'INACTIVE');
        },
      );

      it('outputs exactly the settings cognigate serve needs, described by their variable names', () => {
        const outputs = template(env, kind).toJSON().Outputs;
        const prefix = `COGNIGATE_POOLS__${kind.toUpperCase()}`;
        const label = kind === 'customer' ? 'Customer' : 'Staff';
        const [poolId] = single(template(env, kind), 'AWS::Cognito::UserPool');
        const [clientId] = single(template(env, kind), 'AWS::Cognito::UserPoolClient');
        assert.deepEqual(outputs, {
          [`${label}Provider`]: { Description: `${prefix}__PROVIDER`, Value: 'cognito' },
          [`${label}UserPoolId`]: {
            Description: `${prefix}__COGNITO__USER_POOL_ID`,
            Value: { Ref: poolId },
            Export: { Name: `${env}-cognigate-${kind}-user-pool-id` },
          },
          [`${label}ClientId`]: {
            Description: `${prefix}__COGNITO__CLIENT_ID`,
            Value: { Ref: clientId },
            Export: { Name: `${env}-cognigate-${kind}-client-id` },
          },
          [`${label}Region`]: { Description: `${prefix}__COGNITO__REGION`, Value: { Ref: 'AWS::Region' } },
        });
      });
    });
  }

  describe(`${env} customer business attributes`, () => {
    it('declares company_name and vat_number immutable, and lets the client write them at sign-up', () => {
      const schema: any[] = pool(env, 'customer').Properties.Schema;
      const [, client] = single(template(env, 'customer'), 'AWS::Cognito::UserPoolClient');
      for (const name of ['company_name', 'vat_number']) {
        const declared = schema.find((entry) => entry.Name === name);
        assert.ok(declared !== undefined, `${name} is declared`);
        assert.equal(declared.AttributeDataType, 'String', name);
        assert.equal(declared.Mutable, false, `${name} is immutable`);
        assert.ok(client.Properties.WriteAttributes.includes(`custom:${name}`), `custom:${name} is writable`);
      }
    });

    it('has the staff pool declare neither', () => {
      const schema: any[] = pool(env, 'staff').Properties.Schema;
      assert.deepEqual(
        schema.filter((entry) => entry.Name === 'company_name' || entry.Name === 'vat_number'),
        [],
      );
    });
  });

  describe(`${env} pools: what differs between customers and staff`, () => {
    it('lets customers sign themselves up and only invites staff', () => {
      assert.equal(pool(env, 'customer').Properties.AdminCreateUserConfig.AllowAdminCreateUserOnly, false);
      assert.equal(pool(env, 'staff').Properties.AdminCreateUserConfig.AllowAdminCreateUserOnly, true);
    });

    it('requires TOTP of staff', () => {
      assert.equal(pool(env, 'staff').Properties.MfaConfiguration, 'ON');
      assert.deepEqual(pool(env, 'staff').Properties.EnabledMfas, ['SOFTWARE_TOKEN_MFA']);
    });

    it(
      env === 'dev'
        ? 'buys no threat protection'
        : 'enforces threat protection (PLUS) on the staff pool only',
      () => {
        assert.equal(pool(env, 'customer').Properties.UserPoolTier, 'ESSENTIALS');
        assert.equal(pool(env, 'customer').Properties.UserPoolAddOns, undefined);
        const staff = pool(env, 'staff').Properties;
        if (env === 'dev') {
          assert.equal(staff.UserPoolTier, 'ESSENTIALS');
          assert.equal(staff.UserPoolAddOns, undefined);
        } else {
          assert.equal(staff.UserPoolTier, 'PLUS');
          assert.deepEqual(staff.UserPoolAddOns, { AdvancedSecurityMode: 'ENFORCED' });
        }
      },
    );

    it('gives staff tokens no longer than customers', () => {
      const customer = FILE.environments[env].pools.customer.tokens;
      const staff = FILE.environments[env].pools.staff.tokens;
      assert.ok(
        staff.accessMinutes <= customer.accessMinutes && staff.refreshMinutes <= customer.refreshMinutes,
      );
    });
  });
}

describe('auth stacks follow the file', () => {
  it('picks up changed lifetimes, passwords, attributes and groups', () => {
    const file = editedFile((json) => {
      const staff = json.environments.prod.pools.staff;
      staff.tokens.accessMinutes = 7;
      staff.password.minLength = 20;
      staff.groups.push({ name: 'auditor', description: 'Reads the audit log', precedence: 50 });
      json.environments.prod.pools.customer.customAttributes.push({
        name: 'loyalty_points',
        type: 'Number',
        mutable: true,
        min: 0,
        max: 100000,
        adminOnly: true,
      });
    });
    const { staffAuth, customerAuth } = templates('prod', { cognigateFile: file });
    staffAuth.hasResourceProperties('AWS::Cognito::UserPoolClient', { AccessTokenValidity: 7 });
    staffAuth.hasResourceProperties('AWS::Cognito::UserPool', {
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 20 }) },
    });
    staffAuth.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: 'auditor', Precedence: 50 });
    customerAuth.hasResourceProperties('AWS::Cognito::UserPool', {
      Schema: Match.arrayWith([
        {
          AttributeDataType: 'Number',
          Mutable: true,
          Name: 'loyalty_points',
          NumberAttributeConstraints: { MinValue: '0', MaxValue: '100000' },
        },
      ]),
    });
    const [, client] = single(customerAuth, 'AWS::Cognito::UserPoolClient');
    assert.ok(!client.Properties.WriteAttributes.includes('custom:loyalty_points'));
  });

  it('turns rotation off where the file says false, and takes a changed grace period, 0 included', () => {
    const file = editedFile((json) => {
      json.environments.prod.pools.staff.tokens.rotateRefresh = false;
      json.environments.prod.pools.customer.tokens.rotationGraceSeconds = 0;
    });
    const { staffAuth, customerAuth } = templates('prod', { cognigateFile: file });
    const [, staff] = single(staffAuth, 'AWS::Cognito::UserPoolClient');
    assert.equal(staff.Properties.RefreshTokenRotation, undefined);
    assert.deepEqual([...staff.Properties.ExplicitAuthFlows].sort(), [
      'ALLOW_REFRESH_TOKEN_AUTH',
      'ALLOW_USER_PASSWORD_AUTH',
      'ALLOW_USER_SRP_AUTH',
    ]);
    const [, customer] = single(customerAuth, 'AWS::Cognito::UserPoolClient');
    assert.deepEqual(customer.Properties.RefreshTokenRotation, {
      Feature: 'ENABLED',
      RetryGracePeriodSeconds: 0,
    });
    assert.deepEqual([...customer.Properties.ExplicitAuthFlows].sort(), [
      'ALLOW_USER_PASSWORD_AUTH',
      'ALLOW_USER_SRP_AUTH',
    ]);
  });

  it('lets the client write a new immutable attribute, and never a new admin-only one', () => {
    const file = editedFile((json) => {
      json.environments.dev.pools.customer.customAttributes.push(
        {
          name: 'birth_country',
          type: 'String',
          mutable: false,
          minLength: 2,
          maxLength: 2,
          adminOnly: false,
        },
        { name: 'risk_score', type: 'Number', mutable: false, min: 0, max: 100, adminOnly: true },
      );
    });
    const { customerAuth } = templates('dev', { cognigateFile: file });
    const [, client] = single(customerAuth, 'AWS::Cognito::UserPoolClient');
    assert.ok(client.Properties.WriteAttributes.includes('custom:birth_country'));
    assert.ok(!client.Properties.WriteAttributes.includes('custom:risk_score'));
  });

  it('refuses a pool whose access attributes the client could write, or that lacks one', () => {
    const writable = editedFile((json) => {
      const onboarding = json.environments.staging.pools.customer.customAttributes.find(
        (a: { name: string }) => a.name === 'onboarding',
      );
      onboarding.adminOnly = false;
    });
    assert.throws(
      () => templates('staging', { cognigateFile: writable }),
      /staging: the customer pool in infra\/cognigate\.json is refused: custom:onboarding must be present, of type String and admin-only/,
    );
    const missing = editedFile((json) => {
      const staff = json.environments.prod.pools.staff;
      staff.customAttributes = staff.customAttributes.filter(
        (a: { name: string }) => a.name !== 'onboarding' && a.name !== 'role',
      );
    });
    assert.throws(
      () => templates('prod', { cognigateFile: missing }),
      /prod: the staff pool in infra\/cognigate\.json is refused: custom:role, custom:onboarding must be present, of type String and admin-only/,
    );
  });

  it('refuses a staff pool that does not require TOTP, or that anyone can join', () => {
    const optional = editedFile((json) => {
      json.environments.staging.pools.staff.mfa = 'OPTIONAL';
      json.environments.staging.pools.staff.selfSignUp = true;
    });
    assert.throws(
      () => templates('staging', { cognigateFile: optional }),
      /staging: the staff pool in infra\/cognigate\.json is refused: selfSignUp must be false \(staff are invited\); mfa must be ON, not OPTIONAL/,
    );
    const sms = editedFile((json) => {
      json.environments.dev.pools.staff.mfaMethods = ['SOFTWARE_TOKEN_MFA', 'SMS_MFA'];
    });
    assert.throws(
      () => templates('dev', { cognigateFile: sms }),
      /mfaMethods must be \[SOFTWARE_TOKEN_MFA\] \(TOTP only\)/,
    );
  });

  it('refuses customer auto-confirmation outside dev', () => {
    const file = editedFile((json) => {
      json.environments.prod.pools.customer.autoConfirm = true;
    });
    assert.throws(
      () => templates('prod', { cognigateFile: file }),
      /prod: the customer pool may auto-confirm sign-ups in dev only/,
    );
  });
});
