/**
 * Reads `infra/cognigate.json`, the only place this app takes pools, groups, token lifetimes and refresh-token
 * rotation, routes and throttles from.
 *
 * The file is written by `cognigate infra` from `cognigate.toml`, so a value typed twice (once in the TOML,
 * once here) can never drift. It is still parsed field by field rather than cast: the generator and this app
 * are released together but edited by different people, and a renamed key must stop synthesis with the key's
 * path in the message instead of deploying a pool with a silently missing setting.
 */
import * as fs from 'node:fs';

import { ENVIRONMENTS, type EnvironmentName } from './environments';

export const POOL_KINDS = ['customer', 'staff'] as const;
export type PoolKind = (typeof POOL_KINDS)[number];

export type MfaMode = 'OFF' | 'OPTIONAL' | 'ON';
export type MfaMethod = 'SOFTWARE_TOKEN_MFA' | 'SMS_MFA';

export interface PasswordPolicySettings {
  readonly minLength: number;
  readonly requireLowercase: boolean;
  readonly requireUppercase: boolean;
  readonly requireDigits: boolean;
  readonly requireSymbols: boolean;
  readonly temporaryPasswordValidityDays: number;
}

export interface TokenLifetimes {
  readonly accessMinutes: number;
  readonly idMinutes: number;
  readonly refreshMinutes: number;
  /** Whether every refresh hands out a new refresh token and retires the old one (Cognito's rotation). */
  readonly rotateRefresh: boolean;
  /** How long a retired refresh token is still accepted, 0 to 60 seconds (Cognito's retry grace period). */
  readonly rotationGraceSeconds: number;
}

export interface StandardAttributeSettings {
  /** Cognito's (OIDC) name, e.g. `given_name`. */
  readonly name: string;
  readonly required: boolean;
  readonly mutable: boolean;
}

export type CustomAttributeSettings =
  | {
      readonly name: string;
      readonly type: 'String';
      readonly mutable: boolean;
      readonly minLength: number;
      readonly maxLength: number;
      /** App clients must not be able to write it (role, tier, ...: only the service and triggers do). */
      readonly adminOnly: boolean;
    }
  | {
      readonly name: string;
      readonly type: 'Number';
      readonly mutable: boolean;
      readonly min: number;
      readonly max: number;
      readonly adminOnly: boolean;
    };

export interface GroupSettings {
  readonly name: string;
  readonly description: string;
  /** Cognito's precedence: lower is more senior. */
  readonly precedence: number;
}

export interface PoolSettings {
  readonly displayName: string;
  readonly selfSignUp: boolean;
  readonly autoConfirm: boolean;
  readonly mfa: MfaMode;
  readonly mfaMethods: readonly MfaMethod[];
  readonly password: PasswordPolicySettings;
  readonly tokens: TokenLifetimes;
  readonly standardAttributes: readonly StandardAttributeSettings[];
  readonly customAttributes: readonly CustomAttributeSettings[];
  readonly groups: readonly GroupSettings[];
  readonly defaultGroup: string | null;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS' | '*';

export interface RouteSettings {
  /** `*` means any method (API Gateway's `ANY`). */
  readonly method: HttpMethod;
  /** The pattern as cognigate matches it (`/api/staff/**`). */
  readonly path: string;
  /** The same route as an API Gateway resource path (`/api/staff/{proxy+}`). */
  readonly apiGatewayPath: string;
  readonly pool: PoolKind;
  readonly permission: string;
}

export interface Throttle {
  readonly ratePerSecond: number;
  readonly burst: number;
}

export interface ThrottlingSettings {
  readonly customer: Throttle;
  readonly staff: Throttle;
  readonly wafRequestsPer5MinutesPerAddress: number;
}

export interface EnvironmentSettings {
  readonly pools: { readonly customer: PoolSettings; readonly staff: PoolSettings };
  readonly routes: readonly RouteSettings[];
  readonly throttling: ThrottlingSettings;
}

export interface CognigateFile {
  readonly service: string;
  readonly environments: { readonly [E in EnvironmentName]: EnvironmentSettings };
}

/** A file that does not have the shape `cognigate infra` writes. The message names the offending key. */
export class CognigateFileError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'CognigateFileError';
  }
}

/** Reads and checks the whole file (all three environments), so a broken environment fails every synth. */
export function loadCognigateFile(file: string): CognigateFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new CognigateFileError(
      file,
      `cannot be read (${(error as Error).message}); generate it with \`cognigate infra\``,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CognigateFileError(file, `is not JSON: ${(error as Error).message}`);
  }
  return parseCognigateFile(json, file);
}

/** Checks an already parsed document; `file` only labels the errors. */
export function parseCognigateFile(json: unknown, file: string): CognigateFile {
  const reader = new Reader(file);
  const root = reader.object(json, '');
  const service = reader.string(root, 'service', '');
  const environmentsNode = reader.object(root.environments, 'environments');
  const unknown = Object.keys(environmentsNode).filter(
    (name) => !(ENVIRONMENTS as readonly string[]).includes(name),
  );
  if (unknown.length > 0) {
    reader.fail(
      'environments',
      `has unknown environment(s) ${unknown.join(', ')}; expected ${ENVIRONMENTS.join(', ')}`,
    );
  }
  const environments = {} as Record<EnvironmentName, EnvironmentSettings>;
  for (const name of ENVIRONMENTS) {
    environments[name] = readEnvironment(reader, environmentsNode[name], `environments.${name}`);
  }
  return { service, environments };
}

function readEnvironment(reader: Reader, node: unknown, at: string): EnvironmentSettings {
  const env = reader.object(node, at);
  const poolsNode = reader.object(env.pools, `${at}.pools`);
  const customer = readPool(reader, poolsNode.customer, `${at}.pools.customer`);
  const staff = readPool(reader, poolsNode.staff, `${at}.pools.staff`);
  const routes = reader
    .array(env.routes, `${at}.routes`)
    .map((route, index) => readRoute(reader, route, `${at}.routes[${index}]`));
  const seen = new Set<string>();
  routes.forEach((route, index) => {
    const key = `${route.method} ${route.apiGatewayPath}`;
    if (seen.has(key)) {
      reader.fail(`${at}.routes[${index}]`, `repeats the route ${key}`);
    }
    seen.add(key);
  });
  const throttlingNode = reader.object(env.throttling, `${at}.throttling`);
  const throttling: ThrottlingSettings = {
    customer: readThrottle(reader, throttlingNode.customer, `${at}.throttling.customer`),
    staff: readThrottle(reader, throttlingNode.staff, `${at}.throttling.staff`),
    // AWS WAF's range for a rate-based rule over a 5-minute window.
    wafRequestsPer5MinutesPerAddress: reader.integer(
      throttlingNode,
      'wafRequestsPer5MinutesPerAddress',
      `${at}.throttling`,
      10,
      2_000_000_000,
    ),
  };
  return { pools: { customer, staff }, routes, throttling };
}

function readPool(reader: Reader, node: unknown, at: string): PoolSettings {
  const pool = reader.object(node, at);
  const mfa = reader.oneOf(pool, 'mfa', at, ['OFF', 'OPTIONAL', 'ON'] as const);
  const mfaMethods = reader
    .array(pool.mfaMethods, `${at}.mfaMethods`)
    .map((method, index) =>
      reader.oneOfValue(method, `${at}.mfaMethods[${index}]`, ['SOFTWARE_TOKEN_MFA', 'SMS_MFA'] as const),
    );
  if (mfa !== 'OFF' && mfaMethods.length === 0) {
    reader.fail(`${at}.mfaMethods`, `is empty but mfa is ${mfa}`);
  }
  const passwordNode = reader.object(pool.password, `${at}.password`);
  const password: PasswordPolicySettings = {
    // Cognito's ranges.
    minLength: reader.integer(passwordNode, 'minLength', `${at}.password`, 6, 99),
    requireLowercase: reader.boolean(passwordNode, 'requireLowercase', `${at}.password`),
    requireUppercase: reader.boolean(passwordNode, 'requireUppercase', `${at}.password`),
    requireDigits: reader.boolean(passwordNode, 'requireDigits', `${at}.password`),
    requireSymbols: reader.boolean(passwordNode, 'requireSymbols', `${at}.password`),
    temporaryPasswordValidityDays: reader.integer(
      passwordNode,
      'temporaryPasswordValidityDays',
      `${at}.password`,
      1,
      365,
    ),
  };
  const tokensNode = reader.object(pool.tokens, `${at}.tokens`);
  const tokens: TokenLifetimes = {
    // Cognito's ranges: access and ID tokens 5 minutes to 1 day, refresh tokens 1 hour to 10 years.
    accessMinutes: reader.integer(tokensNode, 'accessMinutes', `${at}.tokens`, 5, 1440),
    idMinutes: reader.integer(tokensNode, 'idMinutes', `${at}.tokens`, 5, 1440),
    refreshMinutes: reader.integer(tokensNode, 'refreshMinutes', `${at}.tokens`, 60, 5_256_000),
    rotateRefresh: reader.boolean(tokensNode, 'rotateRefresh', `${at}.tokens`),
    // Cognito's range for RetryGracePeriodSeconds.
    rotationGraceSeconds: reader.integer(tokensNode, 'rotationGraceSeconds', `${at}.tokens`, 0, 60),
  };
  const standardAttributes = reader
    .array(pool.standardAttributes, `${at}.standardAttributes`)
    .map((attribute, index) => {
      const where = `${at}.standardAttributes[${index}]`;
      const node = reader.object(attribute, where);
      return {
        name: reader.string(node, 'name', where),
        required: reader.boolean(node, 'required', where),
        mutable: reader.boolean(node, 'mutable', where),
      };
    });
  const customAttributes = reader
    .array(pool.customAttributes, `${at}.customAttributes`)
    .map((attribute, index) => readCustomAttribute(reader, attribute, `${at}.customAttributes[${index}]`));
  reader.unique(
    standardAttributes.map((a) => a.name),
    `${at}.standardAttributes`,
  );
  reader.unique(
    customAttributes.map((a) => a.name),
    `${at}.customAttributes`,
  );
  const groups = reader.array(pool.groups, `${at}.groups`).map((group, index) => {
    const where = `${at}.groups[${index}]`;
    const node = reader.object(group, where);
    return {
      name: reader.string(node, 'name', where),
      description: reader.string(node, 'description', where),
      precedence: reader.integer(node, 'precedence', where, 0, 2_147_483_647),
    };
  });
  reader.unique(
    groups.map((g) => g.name),
    `${at}.groups`,
  );
  const defaultGroup = pool.defaultGroup === null ? null : reader.string(pool, 'defaultGroup', at);
  if (defaultGroup !== null && !groups.some((group) => group.name === defaultGroup)) {
    reader.fail(`${at}.defaultGroup`, `names ${defaultGroup}, which is not one of the pool's groups`);
  }
  return {
    displayName: reader.string(pool, 'displayName', at),
    selfSignUp: reader.boolean(pool, 'selfSignUp', at),
    autoConfirm: reader.boolean(pool, 'autoConfirm', at),
    mfa,
    mfaMethods,
    password,
    tokens,
    standardAttributes,
    customAttributes,
    groups,
    defaultGroup,
  };
}

function readCustomAttribute(reader: Reader, node: unknown, at: string): CustomAttributeSettings {
  const attribute = reader.object(node, at);
  const name = reader.string(attribute, 'name', at);
  // Cognito: custom attribute names are 1 to 20 characters (without the `custom:` prefix).
  if (name.length > 20) {
    reader.fail(`${at}.name`, `\`${name}\` is longer than Cognito's 20 characters`);
  }
  const type = reader.oneOf(attribute, 'type', at, ['String', 'Number'] as const);
  const mutable = reader.boolean(attribute, 'mutable', at);
  const adminOnly = reader.boolean(attribute, 'adminOnly', at);
  if (type === 'String') {
    const minLength = reader.integer(attribute, 'minLength', at, 0, 2048);
    const maxLength = reader.integer(attribute, 'maxLength', at, 1, 2048);
    if (minLength > maxLength) {
      reader.fail(at, `minLength ${minLength} is above maxLength ${maxLength}`);
    }
    return { name, type, mutable, minLength, maxLength, adminOnly };
  }
  const min = reader.integer(attribute, 'min', at, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const max = reader.integer(attribute, 'max', at, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  if (min > max) {
    reader.fail(at, `min ${min} is above max ${max}`);
  }
  return { name, type, mutable, min, max, adminOnly };
}

function readRoute(reader: Reader, node: unknown, at: string): RouteSettings {
  const route = reader.object(node, at);
  const method = reader.oneOf(route, 'method', at, [
    'GET',
    'POST',
    'PUT',
    'PATCH',
    'DELETE',
    'HEAD',
    'OPTIONS',
    '*',
  ] as const);
  const apiGatewayPath = reader.string(route, 'apiGatewayPath', at);
  const segments = apiGatewayPath.split('/').slice(1);
  if (!apiGatewayPath.startsWith('/') || segments.some((segment) => segment === '')) {
    reader.fail(
      `${at}.apiGatewayPath`,
      `\`${apiGatewayPath}\` is not an absolute path without empty segments`,
    );
  }
  segments.forEach((segment, index) => {
    const greedy = segment.endsWith('+}');
    if (greedy && index !== segments.length - 1) {
      reader.fail(`${at}.apiGatewayPath`, `\`${apiGatewayPath}\`: a greedy {name+} segment must be the last`);
    }
    if (segment.startsWith('{') !== segment.endsWith('}') || /[{}]/.test(segment.slice(1, -1))) {
      reader.fail(
        `${at}.apiGatewayPath`,
        `\`${apiGatewayPath}\`: segment \`${segment}\` is neither literal nor {name}`,
      );
    }
  });
  return {
    method,
    path: reader.string(route, 'path', at),
    apiGatewayPath,
    pool: reader.oneOf(route, 'pool', at, POOL_KINDS),
    permission: reader.string(route, 'permission', at),
  };
}

function readThrottle(reader: Reader, node: unknown, at: string): Throttle {
  const throttle = reader.object(node, at);
  return {
    ratePerSecond: reader.integer(throttle, 'ratePerSecond', at, 1, 1_000_000),
    burst: reader.integer(throttle, 'burst', at, 1, 1_000_000),
  };
}

type JsonObject = { readonly [key: string]: unknown };

/** Typed access to an untyped document; every failure names the dotted path of the key. */
class Reader {
  constructor(private readonly file: string) {}

  fail(at: string, message: string): never {
    throw new CognigateFileError(this.file, `${at === '' ? 'the document' : at} ${message}`);
  }

  object(value: unknown, at: string): JsonObject {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(at, `must be an object, found ${describe(value)}`);
    }
    return value as JsonObject;
  }

  array(value: unknown, at: string): readonly unknown[] {
    if (!Array.isArray(value)) {
      this.fail(at, `must be an array, found ${describe(value)}`);
    }
    return value;
  }

  string(node: JsonObject, key: string, at: string): string {
    const value = node[key];
    if (typeof value !== 'string' || value === '') {
      this.fail(join(at, key), `must be a non-empty string, found ${describe(value)}`);
    }
    return value;
  }

  boolean(node: JsonObject, key: string, at: string): boolean {
    const value = node[key];
    if (typeof value !== 'boolean') {
      this.fail(join(at, key), `must be true or false, found ${describe(value)}`);
    }
    return value;
  }

  integer(node: JsonObject, key: string, at: string, min: number, max: number): number {
    const value = node[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(join(at, key), `must be an integer from ${min} to ${max}, found ${describe(value)}`);
    }
    return value;
  }

  oneOf<T extends string>(node: JsonObject, key: string, at: string, allowed: readonly T[]): T {
    return this.oneOfValue(node[key], join(at, key), allowed);
  }

  oneOfValue<T extends string>(value: unknown, at: string, allowed: readonly T[]): T {
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.fail(at, `must be one of ${allowed.join(', ')}, found ${describe(value)}`);
    }
    return value as T;
  }

  unique(names: readonly string[], at: string): void {
    const repeated = names.filter((name, index) => names.indexOf(name) !== index);
    if (repeated.length > 0) {
      this.fail(at, `repeats ${[...new Set(repeated)].join(', ')}`);
    }
  }
}

function join(at: string, key: string): string {
  return at === '' ? key : `${at}.${key}`;
}

function describe(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}
