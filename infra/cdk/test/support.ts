/**
 * Shared by the tests: the synthesized templates of an environment, and the expectations read from the same
 * `infra/cognigate.json` the app reads, so a changed file changes what the tests expect.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

import { addCognigateStacks, DEFAULT_COGNIGATE_FILE } from '../lib/app';
import { loadCognigateFile, type CognigateFile } from '../lib/cognigate-file';
import type { EnvironmentName } from '../lib/environments';

export const CDK_ROOT = path.resolve(__dirname, '..', '..');
export const APP_ENTRY = path.join(CDK_ROOT, 'dist', 'bin', 'app.js');

/** What the app reads; the tests' expectations. */
export const FILE: CognigateFile = loadCognigateFile(DEFAULT_COGNIGATE_FILE);

export interface Templates {
  readonly customerAuth: Template;
  readonly staffAuth: Template;
  readonly triggers: Template;
  readonly api: Template;
}

const cache = new Map<string, Templates>();

/** The three templates of one environment (bundling skipped), cached per context. */
export function templates(env: EnvironmentName, context: Record<string, unknown> = {}): Templates {
  const key = JSON.stringify({ env, context });
  const cached = cache.get(key);
  if (cached !== undefined) {
    return cached;
  }
  const app = new App({ context: { env, 'aws:cdk:bundling-stacks': [], ...context } });
  const stacks = addCognigateStacks(app);
  const result = {
    customerAuth: Template.fromStack(stacks.customerAuth),
    staffAuth: Template.fromStack(stacks.staffAuth),
    triggers: Template.fromStack(stacks.triggers),
    api: Template.fromStack(stacks.api),
  };
  cache.set(key, result);
  return result;
}

export type Resource = { readonly Type: string; readonly Properties: any; readonly [key: string]: any };

/** Every resource of a type, by logical id. */
export function resources(template: Template, type: string): Record<string, Resource> {
  return template.findResources(type) as Record<string, Resource>;
}

/** The only resource of a type; fails when there is not exactly one. */
export function single(template: Template, type: string): [string, Resource] {
  const found = Object.entries(resources(template, type));
  if (found.length !== 1) {
    throw new Error(`expected one ${type}, found ${found.length}`);
  }
  return found[0]!;
}

const temporaryDirectories: string[] = [];
process.on('exit', () => {
  for (const directory of temporaryDirectories) {
    fs.rmSync(directory, { recursive: true, force: true });
  }
});

/** A new temporary directory, removed when the test process exits. */
export function temporaryDirectory(prefix: string): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  temporaryDirectories.push(directory);
  return directory;
}

/** A copy of the file, changed by `edit`, written to a temporary path the app can be pointed at. */
export function editedFile(edit: (json: any) => void): string {
  const json = JSON.parse(fs.readFileSync(DEFAULT_COGNIGATE_FILE, 'utf8'));
  edit(json);
  const directory = temporaryDirectory('cognigate-cdk-file');
  const file = path.join(directory, 'cognigate.json');
  fs.writeFileSync(file, JSON.stringify(json, null, 2));
  return file;
}

export interface SynthRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly outdir: string;
}

/**
 * Runs `bin/app.js` as the CDK CLI would, in a fresh process, into `outdir` (default: a new temporary
 * directory). Asynchronous, so independent synths can share the machine's cores.
 */
export function runApp(
  context: Record<string, unknown>,
  options: { readonly nodeOptions?: readonly string[]; readonly outdir?: string } = {},
): Promise<SynthRun> {
  const outdir = options.outdir ?? temporaryDirectory('cognigate-cdk-out');
  fs.mkdirSync(outdir, { recursive: true });
  const child = spawn(process.execPath, [...(options.nodeOptions ?? []), APP_ENTRY], {
    cwd: CDK_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [], ...context }),
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr, outdir }));
  });
}
