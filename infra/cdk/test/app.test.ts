/**
 * The app's entry point and inputs: which environment, which Lambda code, and a broken or missing
 * infra/cognigate.json, each refused with a message that says what to do.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as zlib from 'node:zlib';

import { loadCognigateFile, parseCognigateFile } from '../lib/cognigate-file';
import { parseEnvironment } from '../lib/environments';
import { BINARIES } from '../lib/rust-lambda';
import { editedFile, runApp, single, templates, temporaryDirectory } from './support';

describe('bin/app.js refuses what it cannot deploy', { concurrency: 2 }, () => {
  it('refuses an unknown environment, naming the three it knows', async () => {
    const run = await runApp({ env: 'qa' });
    assert.equal(run.status, 1);
    assert.equal(
      run.stderr,
      'cognigate cdk: unknown environment "qa": pass -c env=<dev|staging|prod> (cdk) or ' +
        `CDK_CONTEXT_JSON='{"env":"dev"}' (node)\n`,
    );
    assert.ok(!fs.existsSync(path.join(run.outdir, 'manifest.json')), 'nothing is synthesized');
  });

  it('refuses to guess the environment', async () => {
    const run = await runApp({});
    assert.equal(run.status, 1);
    assert.match(run.stderr, /^cognigate cdk: no environment: pass -c env=<dev\|staging\|prod>/);
  });
});

describe('environment names', () => {
  it('accepts exactly dev, staging and prod', () => {
    assert.equal(parseEnvironment('dev'), 'dev');
    assert.equal(parseEnvironment('staging'), 'staging');
    assert.equal(parseEnvironment('prod'), 'prod');
    for (const wrong of ['Prod', 'production', '', 3, null]) {
      assert.throws(() => parseEnvironment(wrong), /environment/);
    }
  });
});

/** A zip archive holding the given files uncompressed (enough for the asset checks, and a valid archive). */
function storedZip(files: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text);
    const nameBytes = Buffer.from(name);
    const crc = zlib.crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

function assetsDirectory(layout: (binary: string, directory: string) => void): string {
  const root = temporaryDirectory('cognigate-lambda-assets');
  for (const binary of BINARIES) {
    const directory = path.join(root, binary);
    fs.mkdirSync(directory);
    layout(binary, directory);
  }
  return root;
}

describe('Lambda code (context lambdaAssets)', () => {
  it('takes cargo-lambda zips that carry cognigate.toml', () => {
    const root = assetsDirectory((_, directory) => {
      fs.writeFileSync(
        path.join(directory, 'bootstrap.zip'),
        storedZip({ bootstrap: '\x7fELF', 'cognigate.toml': '[service]\n' }),
      );
    });
    const [, fn] = single(templates('dev', { lambdaAssets: root }).api, 'AWS::Lambda::Function');
    assert.match(fn.Properties.Code.S3Key, /^[0-9a-f]{64}\.zip$/);
  });

  it('takes directories with bootstrap and cognigate.toml', () => {
    const root = assetsDirectory((_, directory) => {
      fs.writeFileSync(path.join(directory, 'bootstrap'), '\x7fELF');
      fs.writeFileSync(path.join(directory, 'cognigate.toml'), '[service]\n');
    });
    templates('staging', { lambdaAssets: root });
  });

  it('refuses a build without cognigate.toml beside bootstrap', () => {
    const zipped = assetsDirectory((_, directory) => {
      fs.writeFileSync(path.join(directory, 'bootstrap.zip'), storedZip({ bootstrap: '\x7fELF' }));
    });
    assert.throws(
      () => templates('prod', { lambdaAssets: zipped }),
      /cognigate-authorizer\/bootstrap\.zip has no cognigate\.toml beside bootstrap; build the Lambdas with scripts\/lambda-build/,
    );
    const plain = assetsDirectory((_, directory) =>
      fs.writeFileSync(path.join(directory, 'bootstrap'), '\x7fELF'),
    );
    assert.throws(
      () => templates('prod', { lambdaAssets: plain }),
      /cognigate-authorizer has no cognigate\.toml beside bootstrap/,
    );
  });

  it('refuses a directory without the binaries', () => {
    const empty = temporaryDirectory('cognigate-lambda-assets');
    assert.throws(
      () => templates('dev', { lambdaAssets: empty }),
      /cognigate-authorizer has neither bootstrap nor bootstrap\.zip; build the Lambdas with scripts\/lambda-build and pass -c lambdaAssets=/,
    );
  });

  it('uses the committed placeholders by default', () => {
    for (const binary of BINARIES) {
      const bootstrap = fs.readFileSync(
        path.join(__dirname, '..', '..', 'lambda-placeholder', binary, 'bootstrap'),
        'utf8',
      );
      assert.match(bootstrap, /placeholder/);
    }
    templates('dev');
  });
});

describe('infra/cognigate.json is read field by field', () => {
  const committed = (): any =>
    JSON.parse(
      fs.readFileSync(
        editedFile(() => undefined),
        'utf8',
      ),
    );

  it('reads the committed file', () => {
    const file = loadCognigateFile(editedFile(() => undefined));
    assert.equal(Object.keys(file.environments).join(','), 'dev,staging,prod');
  });

  it('names the key that is missing or wrong', () => {
    const cases: [(json: any) => void, RegExp][] = [
      [
        (json) => delete json.environments.prod,
        /x\.json: environments\.prod must be an object, found nothing/,
      ],
      [
        (json) => (json.environments.qa = json.environments.dev),
        /environments has unknown environment\(s\) qa/,
      ],
      [
        (json) => (json.environments.dev.pools.staff.mfa = 'REQUIRED'),
        /environments\.dev\.pools\.staff\.mfa must be one of OFF, OPTIONAL, ON, found "REQUIRED"/,
      ],
      [
        (json) => (json.environments.dev.pools.customer.tokens.accessMinutes = 2),
        /environments\.dev\.pools\.customer\.tokens\.accessMinutes must be an integer from 5 to 1440, found 2/,
      ],
      [
        (json) => (json.environments.prod.pools.staff.tokens.rotationGraceSeconds = 61),
        /environments\.prod\.pools\.staff\.tokens\.rotationGraceSeconds must be an integer from 0 to 60, found 61/,
      ],
      [
        (json) => (json.environments.dev.pools.customer.tokens.rotationGraceSeconds = -1),
        /environments\.dev\.pools\.customer\.tokens\.rotationGraceSeconds must be an integer from 0 to 60, found -1/,
      ],
      [
        (json) => (json.environments.staging.pools.customer.tokens.rotationGraceSeconds = 2.5),
        /environments\.staging\.pools\.customer\.tokens\.rotationGraceSeconds must be an integer from 0 to 60, found 2\.5/,
      ],
      [
        (json) => delete json.environments.staging.pools.staff.tokens.rotateRefresh,
        /environments\.staging\.pools\.staff\.tokens\.rotateRefresh must be true or false, found nothing/,
      ],
      [
        (json) => (json.environments.staging.pools.customer.defaultGroup = 'vip'),
        /environments\.staging\.pools\.customer\.defaultGroup names vip, which is not one of the pool's groups/,
      ],
      [
        (json) => (json.environments.prod.routes[0].apiGatewayPath = '/api/{rest+}/x'),
        /environments\.prod\.routes\[0\]\.apiGatewayPath `\/api\/\{rest\+\}\/x`: a greedy \{name\+\} segment must be the last/,
      ],
      [
        (json) => json.environments.prod.routes.push(json.environments.prod.routes[0]),
        /repeats the route GET \/api\/me/,
      ],
      [
        (json) => (json.environments.dev.throttling.wafRequestsPer5MinutesPerAddress = 5),
        /wafRequestsPer5MinutesPerAddress must be an integer from 10 to 2000000000, found 5/,
      ],
      [
        (json) =>
          (json.environments.dev.pools.customer.customAttributes[0].name = 'a_name_longer_than_twenty'),
        /is longer than Cognito's 20 characters/,
      ],
    ];
    for (const [edit, message] of cases) {
      const json = committed();
      edit(json);
      assert.throws(() => parseCognigateFile(json, 'x.json'), message);
    }
  });

  it('says how to make a missing file', () => {
    assert.throws(
      () => loadCognigateFile(path.join(os.tmpdir(), 'no-such-dir', 'cognigate.json')),
      /cannot be read .*; generate it with `cognigate infra`/,
    );
  });
});
