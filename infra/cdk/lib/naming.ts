/**
 * The one naming convention, `<env>-<service>-<resource>`, for stacks and every named resource.
 *
 * Several environments often share one AWS account; the environment first makes a console listing, a bill
 * line or an alarm in a pager readable at a glance, and one function means no resource can be named by hand.
 */
import type { EnvironmentName } from './environments';

/**
 * The product, not the installation: `service` in `infra/cognigate.json` is the installation's name
 * (`service.name` of cognigate.toml) and becomes a tag.
 */
export const SERVICE = 'cognigate';

const RESOURCE = /^[a-z0-9]+(-[a-z0-9]+)*$/;

export function resourceName(env: EnvironmentName, resource: string): string {
  if (!RESOURCE.test(resource)) {
    throw new Error(`resource name part \`${resource}\` must be lower-case words joined by single hyphens`);
  }
  return `${env}-${SERVICE}-${resource}`;
}

export const STACKS = {
  customerAuth: 'customer-auth',
  staffAuth: 'staff-auth',
  triggers: 'triggers',
  api: 'api',
} as const;

export function stackName(env: EnvironmentName, stack: keyof typeof STACKS): string {
  return resourceName(env, STACKS[stack]);
}
