// The staff console in a real browser: Debian's headless Chromium driven by playwright-core, against the
// release binary started the way the README starts it (`cognigate dev`), on a fresh data directory.
//
// The story: the seeded super_admin signs in with the printed one-time password (new password, TOTP set-up),
// signs out and in again with TOTP, invites a manager for team sales-north; the manager completes the first
// sign-in (new password, MFA set-up), approves the pending dealer of their team, cannot see or act on the
// other team's dealer; the super_admin makes a customer premium (detail and audit log show it) and disables
// a customer who then cannot sign in through the auth API. Every page is screenshotted at laptop and phone
// width into tests/browser/artifacts/.
//
// Environment: COGNIGATE_BINARY (default target/release/cognigate), CHROMIUM (default /usr/bin/chromium).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const artifacts = join(here, 'artifacts');
const binary = process.env.COGNIGATE_BINARY ?? join(root, 'target', 'release', 'cognigate');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

const SUPER_ADMIN = 'admin@example.com';
const ADMIN_PASSWORD = 'Console-Super-Pass-1!';
const MANAGER = 'new.manager@example.com';
const MANAGER_PASSWORD = 'Console-Manager-Pass-1!';
const CUSTOMER = 'browser.customer@example.com';
const CUSTOMER_PASSWORD = 'Customer-Pass-77';

let server;
let dataDir;
let url;
let firstPassword;
let browser;

/** Starts `cognigate dev` and reads the console URL and the one-time password from what it prints. */
function startServer() {
  dataDir = mkdtempSync(join(tmpdir(), 'cognigate-browser-'));
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('COGNIGATE_')) delete env[name];
  env.COGNIGATE_SERVICE__DATA_DIR = dataDir;
  env.COGNIGATE_STORE__URL = `sqlite://${dataDir}/cognigate.db`;
  env.COGNIGATE_LOG = 'warn';
  server = spawn(binary, ['dev', '--listen', '127.0.0.1:0'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  server.stderr.on('data', (chunk) => { stderr += chunk; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cognigate dev did not start:\n${stdout}\n${stderr}`)), 60_000);
    server.on('exit', (code) => reject(new Error(`cognigate dev exited with ${code}:\n${stdout}\n${stderr}`)));
    server.stdout.on('data', (chunk) => {
      stdout += chunk;
      const listening = stdout.match(/cognigate listening on (http:\/\/\S+)/);
      const password = stdout.match(/One-time temporary password: (\S+)/);
      if (listening && password) {
        clearTimeout(timer);
        assert.match(stdout, new RegExp(`Console: ${listening[1]}/console`));
        assert.match(stdout, new RegExp(`First super_admin: ${SUPER_ADMIN}`));
        resolve({ url: listening[1], password: password[1] });
      }
    });
  });
}

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s) for a base32 secret, `offset` steps from now. */
function totp(secret, offset = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const char of secret.replace(/=+$/, '').toUpperCase()) {
    bits += alphabet.indexOf(char).toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  const counter = Math.floor(Date.now() / 1000 / 30) + offset;
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const hmac = createHmac('sha1', Buffer.from(bytes)).update(message).digest();
  const start = hmac[hmac.length - 1] & 0x0f;
  const value = (hmac.readUInt32BE(start) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, '0');
}

/** Screenshots the page at laptop width and at phone width. */
async function shoot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
  const laptop = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(artifacts, `${name}.phone.png`), fullPage: true });
  // Usable on a phone: the page never needs sideways scrolling (wide tables scroll inside their box).
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `${name} is wider than a phone screen by ${overflow}px`);
  await page.setViewportSize(laptop);
}

/** Every visible form control has a label (accessible forms). */
async function assertLabelled(page, name) {
  const unlabelled = await page.$$eval('input:not([type=hidden]), select', (controls) =>
    controls.filter((c) => !(c.labels && c.labels.length) && !c.closest('label')).map((c) => c.name || c.id));
  assert.deepEqual(unlabelled, [], `${name}: every form control has a label`);
}

async function flash(page) {
  return (await page.locator('.flash').textContent())?.trim();
}

/** The newest outbox message to `recipient`, read from the console's outbox page. */
async function outboxMessage(page, recipient) {
  await page.goto(`${url}/console/outbox`);
  const message = page.locator('article.message', { has: page.locator('.recipient', { hasText: recipient }) }).first();
  return (await message.locator('pre').textContent()) ?? '';
}

/** First sign-in with a temporary password: new password, then the authenticator set-up. */
async function firstSignIn(page, email, temporary, password, shotPrefix) {
  await page.goto(`${url}/console`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(temporary);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/console\/login\/new-password$/);
  if (shotPrefix) await shoot(page, `${shotPrefix}-new-password`);
  await assertLabelled(page, 'new password');
  await page.getByLabel('New password', { exact: true }).fill(password);
  await page.getByLabel('New password, again').fill(password);
  await page.getByRole('button', { name: 'Set password' }).click();
  await page.waitForURL(/\/console\/login\/mfa-setup$/);
  if (shotPrefix) await shoot(page, `${shotPrefix}-mfa-setup`);
  await assert.doesNotReject(page.getByRole('img', { name: /QR code/ }).waitFor());
  const secret = (await page.locator('#totp-secret').textContent()).trim();
  // A wrong code first: refused with a message, and the set-up can go on.
  await page.getByLabel('Code from your authenticator app').fill(totp(secret, 20));
  await page.getByRole('button', { name: 'Verify and sign in' }).click();
  await page.waitForURL(/\/console\/login\/mfa-setup$/);
  assert.match(await flash(page), /code is not right/);
  await page.getByLabel('Code from your authenticator app').fill(totp(secret, -1));
  await page.getByRole('button', { name: 'Verify and sign in' }).click();
  await page.waitForURL(/\/console\/users/);
  const welcome = await flash(page);
  assert.match(welcome, new RegExp(`Signed in as ${email}`));
  // The enrolment hands out one-time recovery codes, once.
  const recoveryCodes = [...welcome.matchAll(/\b([a-z2-7]{5}-[a-z2-7]{5})\b/g)].map((m) => m[1]);
  assert.equal(recoveryCodes.length, 10, welcome);
  return { secret, recoveryCodes };
}

async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/console\/login$/);
  assert.equal(await flash(page), 'Signed out.');
}

async function authApi(path, body) {
  const response = await fetch(`${url}/auth/customer/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** The `sub` in a console user-page URL. */
function subOf(page) {
  return page.url().split('/').pop();
}

before(async () => {
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  ({ url, password: firstPassword } = await startServer());
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('staff manage both pools through the console', async () => {
  const admin = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();

  // --- The seeded super_admin: first sign-in, then a normal sign-in with TOTP. ---
  await admin.goto(`${url}/console`);
  await shoot(admin, '01-login');
  await assertLabelled(admin, 'login');
  await admin.getByLabel('Email').fill(SUPER_ADMIN);
  await admin.getByLabel('Password').fill('not-the-password');
  await admin.getByRole('button', { name: 'Sign in' }).click();
  assert.equal(await flash(admin), 'Wrong email or password.');
  const { secret: adminSecret } = await firstSignIn(admin, SUPER_ADMIN, firstPassword, ADMIN_PASSWORD, '02-admin');
  await signOut(admin);
  await admin.getByLabel('Email').fill(SUPER_ADMIN);
  await admin.getByLabel('Password').fill(ADMIN_PASSWORD);
  await admin.getByRole('button', { name: 'Sign in' }).click();
  await admin.waitForURL(/\/console\/login\/mfa$/);
  await shoot(admin, '03-mfa');
  await admin.getByLabel('Code from your authenticator app').fill(totp(adminSecret, 1));
  await admin.getByRole('button', { name: 'Verify' }).click();
  await admin.waitForURL(/\/console\/users/);
  await shoot(admin, '04-users');
  await assertLabelled(admin, 'users');
  // Both pools are in the list, seeded staff and customers alike.
  for (const email of ['north-dealer@example.com', 'south.manager@example.com', 'alice@example.com']) {
    await assert.doesNotReject(admin.getByRole('link', { name: email }).waitFor(), email);
  }
  // The one-time password is spent.
  const replay = await fetch(`${url}/auth/staff/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: SUPER_ADMIN, password: firstPassword }),
  });
  assert.equal(replay.status, 401);

  // --- Invite a manager for team sales-north. ---
  await admin.getByRole('link', { name: 'Invite staff' }).click();
  await shoot(admin, '05-invite');
  await assertLabelled(admin, 'invite');
  await admin.getByLabel('Email').fill(MANAGER);
  await admin.getByLabel('Role').selectOption('manager');
  await admin.getByLabel('Team').selectOption('sales-north');
  await admin.getByRole('button', { name: 'Send invitation' }).click();
  await admin.waitForURL(/\/console\/users\/staff\//);
  assert.match(await flash(admin), /was invited as manager/);
  const invitation = await outboxMessage(admin, MANAGER);
  await shoot(admin, '06-outbox');
  const temporary = invitation.match(/Temporary password: (\S+)/)[1];

  // --- The manager's first sign-in, in a browser of their own. ---
  const manager = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  const { recoveryCodes } = await firstSignIn(manager, MANAGER, temporary, MANAGER_PASSWORD, '07-manager');
  // Only what a manager may use is offered.
  const nav = await manager.getByRole('navigation', { name: 'Console' }).textContent();
  assert.match(nav, /Approvals/);
  assert.doesNotMatch(nav, /Audit log|Status/);

  // The pending dealer of their team is in the queue; the other team's is not.
  await manager.getByRole('link', { name: 'Approvals' }).click();
  await shoot(manager, '08-approvals');
  await assert.doesNotReject(manager.getByRole('link', { name: 'north-dealer@example.com' }).waitFor());
  assert.equal(await manager.getByText('south-dealer@example.com').count(), 0);
  await manager.getByRole('button', { name: 'Approve north-dealer@example.com' }).click();
  await manager.waitForURL(/\/console\/approvals$/);
  assert.equal(await flash(manager), 'north-dealer@example.com was approved.');
  assert.equal(await manager.getByRole('link', { name: 'north-dealer@example.com' }).count(), 0, 'left the queue');

  // The users list holds their team only.
  await manager.getByRole('link', { name: 'Users' }).click();
  const listed = await manager.locator('tbody').textContent();
  assert.match(listed, /north-dealer@example\.com/);
  assert.doesNotMatch(listed, /south-dealer@example\.com|south\.manager@example\.com|alice@example\.com/);
  await shoot(manager, '09-manager-users');

  // The other team's dealer: not shown when asked for directly, and a forced approval is refused.
  await admin.goto(`${url}/console/users?email=south-dealer`);
  await admin.getByRole('link', { name: 'south-dealer@example.com' }).click();
  const southPath = new URL(admin.url()).pathname;
  const response = await manager.goto(`${url}${southPath}`);
  assert.equal(response.status(), 403);
  assert.match(await manager.locator('main').textContent(), /Not allowed/);
  await shoot(manager, '10-manager-refused');
  const csrf = await manager.locator('input[name=csrf]').first().getAttribute('value');
  await manager.request.post(`${url}${southPath}`, { form: { csrf, op: 'approve' } });
  await admin.reload();
  assert.equal((await admin.locator('#onboarding').textContent()).trim(), 'pending_approval');

  // --- The manager lost the authenticator: a recovery code signs them in once, and a new one is set up. ---
  await signOut(manager);
  await manager.getByLabel('Email').fill(MANAGER);
  await manager.getByLabel('Password').fill(MANAGER_PASSWORD);
  await manager.getByRole('button', { name: 'Sign in' }).click();
  await manager.waitForURL(/\/console\/login\/mfa$/);
  await manager.getByRole('link', { name: 'Lost your authenticator?' }).click();
  await manager.waitForURL(/\/console\/login\/recovery$/);
  await assertLabelled(manager, 'recovery');
  await shoot(manager, '10b-recovery');
  const recover = async (code) => {
    await manager.getByLabel('Email').fill(MANAGER);
    await manager.getByLabel('Password').fill(MANAGER_PASSWORD);
    await manager.getByLabel('Recovery code').fill(code);
    await manager.getByRole('button', { name: 'Sign in' }).click();
  };
  await recover('aaaaa-aaaaa');
  await manager.waitForURL(/\/console\/login\/recovery$/);
  assert.equal(await flash(manager), 'Wrong email, password or recovery code.');
  await recover(recoveryCodes[3].toUpperCase());
  await manager.waitForURL(/\/console\/login\/mfa-setup$/);
  const newSecret = (await manager.locator('#totp-secret').textContent()).trim();
  await manager.getByLabel('Code from your authenticator app').fill(totp(newSecret, 0));
  await manager.getByRole('button', { name: 'Verify and sign in' }).click();
  await manager.waitForURL(/\/console\/users/);
  assert.match(await flash(manager), /recovery codes/);
  // The old codes died with the old authenticator.
  await signOut(manager);
  await manager.goto(`${url}/console/login/recovery`);
  await recover(recoveryCodes[4]);
  await manager.waitForURL(/\/console\/login\/recovery$/);
  assert.equal(await flash(manager), 'Wrong email, password or recovery code.');

  // --- The super_admin makes a customer premium: the detail and the audit log show it. ---
  await admin.goto(`${url}/console/users?email=alice`);
  await admin.getByRole('link', { name: 'alice@example.com' }).click();
  const aliceSub = subOf(admin);
  assert.equal((await admin.locator('#tier').textContent()).trim(), 'standard');
  await admin.getByRole('button', { name: 'Make premium' }).click();
  assert.equal(await flash(admin), 'alice@example.com is now premium.');
  assert.equal((await admin.locator('#tier').textContent()).trim(), 'premium');
  await shoot(admin, '11-user-detail');
  await admin.getByRole('link', { name: 'Audit events about this account' }).click();
  const audit = admin.locator('tbody tr', { hasText: 'admin.user.change_tier' });
  await assert.doesNotReject(audit.first().waitFor());
  assert.match(await audit.first().textContent(), /success/);
  assert.match(await audit.first().textContent(), new RegExp(aliceSub));
  await shoot(admin, '12-audit');
  await assertLabelled(admin, 'audit');

  // --- A customer who signs in through the auth API, disabled in the console, cannot sign in any more. ---
  let answer = await authApi('register', { email: CUSTOMER, password: CUSTOMER_PASSWORD });
  assert.equal(answer.status, 202, JSON.stringify(answer.body));
  const code = [...(await outboxMessage(admin, CUSTOMER)).matchAll(/(?<!\d)(\d{6})(?!\d)/g)].pop()[1];
  answer = await authApi('confirm', { email: CUSTOMER, code });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  answer = await authApi('login', { email: CUSTOMER, password: CUSTOMER_PASSWORD });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const accessToken = answer.body.accessToken;
  await admin.goto(`${url}/console/users?pool=customer&email=browser.customer`);
  await admin.getByRole('link', { name: CUSTOMER }).click();
  await admin.getByRole('button', { name: 'Disable' }).click();
  assert.match(await flash(admin), /was disabled/);
  assert.match(await admin.locator('#status').textContent(), /disabled/);
  answer = await authApi('login', { email: CUSTOMER, password: CUSTOMER_PASSWORD });
  assert.equal(answer.status, 401, JSON.stringify(answer.body));
  assert.equal(answer.body.code, 'AUTH_FAILED');
  const me = await fetch(`${url}/auth/customer/me`, { headers: { authorization: `Bearer ${accessToken}` } });
  assert.equal(me.status, 401, 'the tokens it had are revoked too');

  // --- The other pages. ---
  await admin.getByRole('link', { name: 'Teams' }).click();
  await assert.doesNotReject(admin.getByRole('heading', { name: 'sales-north' }).waitFor());
  assert.match(await admin.locator('main').textContent(), /new\.manager@example\.com/);
  await shoot(admin, '13-teams');
  await assertLabelled(admin, 'teams');
  await admin.getByRole('link', { name: 'Status' }).click();
  await admin.getByRole('button', { name: 'Test connection' }).click();
  assert.match(await admin.locator('main').textContent(), /customer: OK/);
  assert.match(await admin.locator('main').textContent(), /staff: OK/);
  await shoot(admin, '14-status');
  await admin.getByRole('link', { name: 'Approvals' }).click();
  await shoot(admin, '15-admin-approvals');
  await admin.goto(`${url}/console/customers/new`);
  await assertLabelled(admin, 'create customer');
  await shoot(admin, '16-create-customer');
  await signOut(admin);
  // After signing out, the console is closed.
  await admin.goto(`${url}/console/users`);
  await admin.waitForURL(/\/console\/login$/);
});
