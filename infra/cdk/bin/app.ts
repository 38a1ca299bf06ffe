#!/usr/bin/env node
/**
 * The CDK app: `cdk synth -c env=dev` (or `node dist/bin/app.js` with CDK_CONTEXT_JSON and CDK_OUTDIR).
 *
 * cdk-nag's AWS Solutions rules run on every synth, so a finding nobody acknowledged with a reason stops the
 * synth, and with it every deploy.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

import { addCognigateStacks } from '../lib/app';

function main(): void {
  const app = new App();
  try {
    addCognigateStacks(app);
  } catch (error) {
    // A configuration mistake, not a bug: the message is the whole story.
    process.stderr.write(`cognigate cdk: ${(error as Error).message}\n`);
    process.exit(1);
  }
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  app.synth();
}

main();
