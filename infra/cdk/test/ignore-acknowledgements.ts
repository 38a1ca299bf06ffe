/**
 * Preloaded (`node --require`) by the nag test into a synth of `bin/app.js`: turns every
 * `Validations.acknowledge` into a no-op, so the report lists exactly what the app acknowledges. The test
 * compares that list with what it expects, which shows each acknowledgement answers a real finding and that
 * cdk-nag really runs inside `bin/app.js`.
 */
import { Validations } from 'aws-cdk-lib';

Validations.prototype.acknowledge = function ignoreAcknowledgement(): void {};
