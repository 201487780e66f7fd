// Browser tests of the embedded widget: headless Debian Chromium driven by playwright-core,
// against the real server (target/debug/colloquy, built beforehand) on a throwaway database.
//
//   node --test --test-reporter=tap tests/browser/run.mjs
//
// Screenshots land in tests/artifacts/ (not committed). No network but 127.0.0.1/localhost.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { mkdirSync, createWriteStream, existsSync } from 'node:fs';
import { randomBytes, createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'target/debug/colloquy');
const ARTIFACTS = path.join(ROOT, 'tests/artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const DB = `colloquy_browser_${randomBytes(5).toString('hex')}`;
const PG = process.env.COLLOQUY_TEST_PG || 'postgres://postgres@127.0.0.1:5432';
const THREAD = '/2013/02/26/kerry-lavrov/';
const MOD = { email: 'mod@example.com', password: 'correct horse battery staple' };
const T = { timeout: 60_000 };

let server, port, base, browser, modToken, wp;
const pageErrors = [];
const ctx = {}; // state shared by the scenarios, in order

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, fn, ms = 30_000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try { if (await fn()) return; } catch (e) { last = e; if (/exited/.test(e.message)) break; }
    await sleep(150);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

async function http(method, p, body, token) {
  const res = await fetch(base + p, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text };
}

/** Logs in to the account page with the dev login (as the page's own window would); the headers
 * of the page's requests: its session cookie, the CSRF header and its origin. */
async function accountHeaders(name) {
  const start = await fetch(`${base}/account/login/dev`, { redirect: 'manual' });
  const binding = start.headers.getSetCookie().find((c) => c.startsWith('colloquy-login=')).split(';')[0];
  const state = new URL(start.headers.get('location'), base).searchParams.get('state');
  const done = await fetch(`${base}/auth/dev/callback`, { method: 'POST', redirect: 'manual', headers: { Cookie: binding }, body: new URLSearchParams({ state, name }) });
  assert.equal(done.status, 303);
  const session = done.headers.getSetCookie().find((c) => c.startsWith('colloquy-account=')).split(';')[0];
  return { Cookie: session, 'X-Colloquy-Account': '1', Origin: base };
}

async function approve(id) {
  const r = await http('POST', `/api/mod/v1/comments/${id}/actions`, { action: 'approve' }, modToken);
  assert.equal(r.status, 200, `approve answered ${r.status}: ${r.text}`);
}

async function setLimits(limits) {
  const r = await http('PATCH', '/api/mod/v1/sites/demo', { limits }, modToken);
  assert.equal(r.status, 200, `site limits: ${r.status} ${r.text}`);
}

/** A fresh browser context that allows only local requests, and records every request. */
async function newPage(opts = {}) {
  const context = await browser.newContext({ viewport: { width: 900, height: 1000 }, colorScheme: opts.colorScheme || 'light' });
  const requests = [];
  const dialogs = [];
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    const local = u.hostname === '127.0.0.1' || u.hostname === 'localhost';
    return local || u.protocol === 'data:' ? route.continue() : route.abort();
  });
  const page = await context.newPage();
  const watch = (p) => {
    p.on('request', (r) => requests.push(r.url()));
    p.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
    p.on('pageerror', (e) => { pageErrors.push(e.message); console.error(`page error: ${e.message}`); });
  };
  watch(page);
  context.on('page', watch);
  if (opts.before) await opts.before(page);
  await page.goto(opts.url || `${base}/demo/`);
  if (!opts.url) await page.locator('#colloquy-thread .count').filter({ hasText: /comment/ }).waitFor();
  return { context, page, requests, dialogs };
}

const widget = (page) => page.locator('#colloquy-thread');
const comment = (page, text) => widget(page).locator('article.c').filter({ has: page.locator(':scope > .row .body', { hasText: text }) });
const shot = (page, name) => widget(page).screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });

async function devLogin(page, name) {
  const [popup] = await Promise.all([
    page.waitForEvent('popup'),
    widget(page).locator('.form:not(.reply) button[data-provider="dev"]').first().click(),
  ]);
  await popup.getByLabel('Name').fill(name);
  await popup.getByRole('button', { name: 'Log in' }).click();
  await widget(page).getByText('You are commenting using your demo account.').first().waitFor();
}

/** A WordPress.com OAuth double (authorize, token, /me), as tests/api/doubles.rs plays it. */
const WP = { client: 'wp-client-1111', secret: 'wp-secret-2222', grants: new Map(), tokens: new Set(), calls: [] };
const WP_PROFILE = {
  ID: 12345678, display_name: 'Jane Blogger', username: 'janeblogger', email: 'jane@example.com',
  email_verified: true, verified: true, avatar_URL: 'https://0.gravatar.com/avatar/abc?s=96&d=identicon&r=G',
  profile_URL: 'https://gravatar.com/janeblogger', primary_blog: 987654,
  primary_blog_url: 'https://janeblogger.wordpress.com', language: 'en', token_site_id: 987654,
  token_scope: ['auth'], token_client_id: 11111, date: '2014-03-01T12:00:00+00:00', site_count: 1, phone_account: false,
};
async function startWordPress() {
  const srv = createHttpServer(async (req, res) => {
    const u = new URL(req.url, 'http://127.0.0.1');
    const send = (status, body, headers = {}) => { res.writeHead(status, { 'Content-Type': 'application/json', ...headers }); res.end(JSON.stringify(body)); };
    const refuse = (status, error) => { WP.calls.push(`${u.pathname} refused: ${error}`); send(status, { error, error_description: error }); };
    WP.calls.push(`${req.method} ${u.pathname}`);
    if (req.method === 'GET' && u.pathname === '/oauth2/authorize') {
      const q = Object.fromEntries(u.searchParams);
      if (q.client_id !== WP.client || q.response_type !== 'code' || q.scope !== 'auth' || !q.state
        || q.code_challenge_method !== 'S256' || !q.code_challenge || q.redirect_uri !== `${base}/auth/wordpress/callback`) return refuse(400, `invalid_request ${u.search}`);
      const code = `code-${randomBytes(8).toString('hex')}`;
      WP.grants.set(code, q);
      const to = new URL(q.redirect_uri);
      to.searchParams.set('code', code);
      to.searchParams.set('state', q.state);
      res.writeHead(302, { Location: to.href });
      return res.end();
    }
    if (req.method === 'POST' && u.pathname === '/oauth2/token') {
      let raw = '';
      for await (const chunk of req) raw += chunk;
      const f = Object.fromEntries(new URLSearchParams(raw));
      // WordPress.com: the secret in the form body, no Basic auth; PKCE checked like the real one.
      if (f.client_id !== WP.client || f.client_secret !== WP.secret || req.headers.authorization) return refuse(401, 'invalid_client');
      if (f.grant_type !== 'authorization_code') return refuse(400, 'unsupported_grant_type');
      const g = WP.grants.get(f.code);
      WP.grants.delete(f.code);
      if (!g || f.redirect_uri !== g.redirect_uri) return refuse(400, 'invalid_grant');
      if (createHash('sha256').update(f.code_verifier || '').digest('base64url') !== g.code_challenge) return refuse(400, 'invalid_grant pkce');
      const token = `at-${randomBytes(12).toString('hex')}`;
      WP.tokens.add(token);
      return send(200, { access_token: token, token_type: 'bearer', blog_id: '0', blog_url: null, scope: 'auth' });
    }
    if (req.method === 'GET' && u.pathname === '/rest/v1.1/me') {
      if (!WP.tokens.has((req.headers.authorization || '').replace(/^Bearer /, ''))) return refuse(401, 'invalid_token');
      return send(200, WP_PROFILE);
    }
    refuse(404, 'not_found');
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return srv;
}

async function post(page, text, scope) {
  const form = scope || widget(page).locator('form.form').first();
  await form.locator('textarea').fill(text);
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/comments') && r.request().method() === 'POST'),
    form.getByRole('button', { name: /Post Comment/ }).click(),
  ]);
  return { status: res.status(), json: await res.json() };
}

before(async () => {
  assert.ok(existsSync(BIN), `${BIN} is missing: run cargo build first`);
  mkdirSync(ARTIFACTS, { recursive: true });
  wp = await startWordPress();
  const wpBase = `http://127.0.0.1:${wp.address().port}`;
  port = await freePort();
  base = `http://localhost:${port}`;
  execFileSync('createdb', ['-h', '127.0.0.1', '-U', 'postgres', DB]);
  const log = createWriteStream(path.join(ARTIFACTS, 'server.log'));
  server = spawn(BIN, ['serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      COLLOQUY_ENV: 'development',
      COLLOQUY__DATABASE__URL: `${PG}/${DB}`,
      COLLOQUY__SERVER__PORT: String(port),
      COLLOQUY__SERVER__PUBLIC_URL: base,
      COLLOQUY__AUTH__PROVIDERS__WORDPRESS__CLIENT_ID: WP.client,
      COLLOQUY__AUTH__PROVIDERS__WORDPRESS__CLIENT_SECRET: WP.secret,
      COLLOQUY__AUTH__PROVIDERS__WORDPRESS__AUTHORIZE_URL: `${wpBase}/oauth2/authorize`,
      COLLOQUY__AUTH__PROVIDERS__WORDPRESS__TOKEN_URL: `${wpBase}/oauth2/token`,
      COLLOQUY__AUTH__PROVIDERS__WORDPRESS__PROFILE_URL: `${wpBase}/rest/v1.1/me`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  for (const s of [server.stdout, server.stderr]) {
    s.on('data', (d) => { log.write(d); if (output.length < 20_000) output += d; });
  }
  await waitFor('the server to be ready', async () => {
    if (server.exitCode !== null) throw new Error(`the server exited (${server.exitCode}): ${output.slice(-2000)}`);
    return (await fetch(`${base}/health/ready`)).ok;
  });
  await waitFor('the demo site', async () => (await fetch(`${base}/api/v1/sites/demo`)).ok);
  execFileSync(BIN, ['moderator', 'create', '--email', MOD.email, '--site', 'demo', '--role', 'owner'], {
    cwd: ROOT,
    input: `${MOD.password}\n`,
    env: { ...process.env, COLLOQUY_ENV: 'development', COLLOQUY__DATABASE__URL: `${PG}/${DB}` },
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  const login = await http('POST', '/api/mod/v1/login', MOD);
  assert.equal(login.status, 200, login.text);
  modToken = login.json.token;
  // One browser posts many comments quickly from one IP: lift the flood limits (one test puts
  // the interval back to see the widget explain a 429).
  await setLimits({ comment_interval_s: 0, comments_per_minute_user: 1000, comments_per_minute_ip: 1000, guest_comments_per_minute: 1000 });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close().catch(() => {});
  wp?.close();
  if (server) {
    server.kill('SIGTERM');
    await Promise.race([new Promise((r) => server.once('exit', r)), sleep(5000)]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  try { execFileSync('dropdb', ['-h', '127.0.0.1', '-U', 'postgres', '--if-exists', '--force', DB]); } catch { /* best effort */ }
});

test('the demo page shows the widget logged out, with the seed form and the count filled', T, async () => {
  const a = await newPage();
  ctx.a = a;
  const w = widget(a.page);
  await w.getByText('Please log in using one of these methods to post your comment:').waitFor();
  await w.getByRole('button', { name: 'Demo login' }).waitFor();
  await w.getByLabel('Leave a comment').waitFor();
  await w.getByLabel(/^Name/).waitFor();
  await w.getByLabel(/^Email/).waitFor();
  await w.getByLabel(/^Website/).waitFor();
  await w.getByText('No comments yet').waitFor();
  // the page's own element outside the widget, filled by one counts request
  await a.page.locator('[data-colloquy-count]').filter({ hasText: '0 comments' }).waitFor();
  assert.ok(a.requests.some((u) => u.includes('/api/v1/sites/demo/counts?uri=')), 'a counts request was made');
  // the counter under the textarea counts characters
  await w.locator('textarea').first().fill('héllo');
  await w.getByText('5 / 10000').waitFor();
  await w.locator('textarea').first().fill('');
  await shot(a.page, 'logged-out');
});

test('logging in through the dev provider popup', T, async () => {
  const { page } = ctx.a;
  await devLogin(page, 'Alice Example');
  const w = widget(page);
  await w.getByText('Alice Example').first().waitFor();
  await w.getByRole('button', { name: 'Log Out' }).waitFor();
  await w.getByRole('button', { name: 'Change' }).waitFor();
  assert.equal(await w.getByLabel(/^Email/).count(), 0, 'no guest fields once logged in');
  const stored = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('colloquy:token:')));
  assert.deepEqual(stored, [`colloquy:token:${base}`]);
  await shot(page, 'logged-in');
});

test('posting shows the pending notice (first comment is held)', T, async () => {
  const { page } = ctx.a;
  const r = await post(page, 'Interesting preview. **Declarations** instead of a treaty?');
  assert.equal(r.status, 201, JSON.stringify(r.json));
  assert.equal(r.json.status, 'pending');
  ctx.first = r.json.comment.id;
  const w = widget(page);
  await w.locator('article.c.pending .note').getByText('Your comment is awaiting moderation.').waitFor();
  assert.equal(await w.locator('textarea').first().inputValue(), '', 'the form is cleared after posting');
  const focused = await page.evaluate(() => document.querySelector('#colloquy-thread').shadowRoot.activeElement?.getAttribute('data-id'));
  assert.equal(focused, ctx.first, 'focus moves to the new comment');
  await shot(page, 'pending');
});

test('approved by a moderator, the comment appears live in a second page', T, async () => {
  const b = await newPage();
  ctx.b = b;
  await widget(b.page).getByText('No comments yet').waitFor();
  await sleep(500); // let the event stream connect
  await approve(ctx.first);
  await comment(b.page, 'Declarations').waitFor({ timeout: 15_000 });
  await widget(b.page).locator('.count').filter({ hasText: '1 comment' }).waitFor();
  // and in the author's page the pending badge goes away
  await widget(ctx.a.page).locator(`article.c[data-id="${ctx.first}"]:not(.pending)`).waitFor({ timeout: 15_000 });
});

test('replying nests the reply under its parent', T, async () => {
  const { page } = ctx.a;
  const parent = widget(page).locator(`article.c[data-id="${ctx.first}"]`);
  await parent.getByRole('button', { name: 'Reply' }).first().click();
  const form = parent.locator('form.reply');
  await form.getByLabel('Reply to Alice Example').waitFor();
  await form.locator('textarea').fill('Replying to myself: Moscow may see it as an interim step.');
  await shot(page, 'reply-form');
  const r = await post(page, 'Replying to myself: Moscow may see it as an interim step.', form);
  assert.equal(r.status, 201, JSON.stringify(r.json));
  ctx.reply = r.json.comment.id;
  if (r.json.status !== 'approved') await approve(ctx.reply);
  await parent.locator(`.kids article.c[data-id="${ctx.reply}"]`).waitFor();
  assert.equal(await parent.locator('form.reply').count(), 0, 'the reply form closes');
  await widget(ctx.b.page).locator(`article.c[data-id="${ctx.first}"] .kids article.c[data-id="${ctx.reply}"]`).waitFor({ timeout: 15_000 });
});

test('editing an own comment', T, async () => {
  const { page } = ctx.a;
  const c = widget(page).locator(`article.c[data-id="${ctx.reply}"]`);
  await c.getByRole('button', { name: 'Edit' }).click();
  const ta = c.getByLabel('Edit your comment');
  assert.match(await ta.inputValue(), /interim step/, 'the edit starts from the text');
  await ta.fill('Replying to myself: Moscow may see it as an *interim* step (edited).');
  await c.getByRole('button', { name: 'Save' }).click();
  await c.locator(':scope > .row .body em', { hasText: 'interim' }).waitFor();
  await c.locator(':scope > .row .edited').waitFor();
  await widget(ctx.b.page).locator(`article.c[data-id="${ctx.reply}"] .body`, { hasText: '(edited)' }).waitFor({ timeout: 15_000 });
});

test('voting and reporting on someone else\'s comment', T, async () => {
  const { page } = ctx.b;
  await devLogin(page, 'Bob Reader');
  const c = widget(page).locator(`article.c[data-id="${ctx.first}"]`);
  await c.locator(':scope > .row').getByRole('button', { name: 'Upvote' }).click();
  await c.locator(':scope > .row .score', { hasText: '1' }).waitFor();
  assert.equal(await c.locator(':scope > .row').getByRole('button', { name: 'Upvote' }).getAttribute('aria-pressed'), 'true');
  await c.locator(':scope > .row').getByRole('button', { name: 'Report' }).click();
  await c.getByLabel('Reason').selectOption('off_topic');
  await shot(page, 'report-form');
  await c.getByRole('button', { name: 'Send report' }).click();
  await c.getByText('Thank you. The moderators will take a look.').waitFor();
});

test('deleting an own comment removes it here and live elsewhere', T, async () => {
  const { page } = ctx.a;
  const c = widget(page).locator(`article.c[data-id="${ctx.reply}"]`);
  await c.getByRole('button', { name: 'Delete' }).click();
  await c.getByRole('button', { name: 'Yes, delete' }).click();
  await widget(page).locator(`article.c[data-id="${ctx.reply}"]`).waitFor({ state: 'detached' });
  await widget(ctx.b.page).locator(`article.c[data-id="${ctx.reply}"]`).waitFor({ state: 'detached', timeout: 15_000 });
});

test('a guest posts with name and email', T, async () => {
  const g = await newPage();
  ctx.g = g;
  const w = widget(g.page);
  // missing name and email: said in words, text kept
  await w.locator('textarea').first().fill('A guest opinion about the G-8 summit.');
  await w.getByRole('button', { name: 'Post Comment' }).click();
  await w.getByText('Please fill in your name and email, or log in.').waitFor();
  assert.equal(await w.locator('textarea').first().inputValue(), 'A guest opinion about the G-8 summit.');
  // a bad email: the server's validation, shown next to the form, text kept
  await w.getByLabel(/^Name/).fill('Gina Guest');
  await w.getByLabel(/^Email/).fill('not-an-email');
  const bad = await post(g.page, 'A guest opinion about the G-8 summit.');
  assert.equal(bad.status, 400);
  await w.getByText(/^Email: /).waitFor();
  assert.equal(await w.locator('textarea').first().inputValue(), 'A guest opinion about the G-8 summit.');
  await w.getByLabel(/^Email/).fill('gina@example.com');
  await w.getByLabel(/^Website/).fill('https://gina.example.org/');
  let r;
  const [sent] = await Promise.all([
    g.page.waitForRequest((q) => q.url().includes('/comments') && q.method() === 'POST'),
    post(g.page, 'A guest opinion about the G-8 summit.').then((x) => { r = x; }),
  ]);
  assert.equal(r.status, 201, JSON.stringify(r.json));
  // The browser made a guest key once, keeps it, and sends it: the server knows a guest by
  // email and key, so someone else typing this email is another guest.
  const kept = await g.page.evaluate(() => Object.keys(localStorage)
    .filter((k) => k.startsWith('colloquy:guest-key:')).map((k) => localStorage.getItem(k)));
  assert.equal(kept.length, 1);
  assert.match(kept[0], /^[0-9a-f]{64}$/);
  assert.equal(sent.postDataJSON().guest.key, kept[0]);
  ctx.guest = r.json.comment.id;
  await w.locator(`article.c[data-id="${ctx.guest}"]`).waitFor();
  if (r.json.status === 'pending') {
    await w.locator(`article.c[data-id="${ctx.guest}"] .note`).getByText('awaiting moderation').waitFor();
    await approve(ctx.guest);
  }
  await comment(ctx.a.page, 'G-8 summit').waitFor({ timeout: 15_000 });
  const name = comment(ctx.a.page, 'G-8 summit').locator('a.name');
  assert.equal(await name.getAttribute('href'), 'https://gina.example.org/');
});

const XSS = [
  '<script>window.__xss=1;alert(1)</script>',
  '<img src=x onerror="window.__xss=2;alert(2)">',
  '<svg onload="window.__xss=3;alert(3)"></svg>',
  '[click me](javascript:window.__xss=4;alert(4))',
  '[data](data:text/html;base64,PHNjcmlwdD5hbGVydCg1KTwvc2NyaXB0Pg==)',
  '<a href="javascript:alert(6)">a6</a>',
  '<iframe src="javascript:alert(7)"></iframe>',
  '<details open ontoggle="window.__xss=8;alert(8)">x</details>',
  '<img src="https://evil.example.com/track.png">',
  '![pixel](https://evil.example.com/pixel.gif)',
  '<style>@import "https://evil.example.com/x.css"; *{display:none}</style>',
  '<link rel=stylesheet href="https://evil.example.com/y.css">',
  '<form action="https://evil.example.com/"><button>go</button></form>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(9)>',
  '"><img src=x onerror=alert(10)>',
  '<object data="https://evil.example.com/o"></object><embed src="https://evil.example.com/e">',
  '<video><source onerror="alert(11)"></video><body onload=alert(12)>',
  '<a href="https://evil.example.com/" style="position:fixed;inset:0">overlay</a>',
].join('\n\n');

test('a rate-limited post says how long to wait and keeps the text', T, async () => {
  const { page } = ctx.b; // Bob, logged in
  await setLimits({ comment_interval_s: 120 });
  try {
    const first = await post(page, 'Bob wonders about Mali.');
    assert.equal(first.status, 201, JSON.stringify(first.json));
    const r = await post(page, 'Bob again, too soon.');
    assert.equal(r.status, 429);
    const w = widget(page);
    await w.locator('form.form .msg.bad').getByText(/You are commenting too quickly\. Please try again in \d+ (seconds|minutes)\./).waitFor();
    assert.equal(await w.locator('textarea').first().inputValue(), 'Bob again, too soon.');
    await w.locator('textarea').first().fill('');
  } finally {
    await setLimits({ comment_interval_s: 0 });
  }
});

test('a battery of XSS payloads renders inert', T, async () => {
  const { page } = ctx.b; // Bob, logged in
  const r = await post(page, `XSS battery follows\n\n${XSS}`);
  assert.equal(r.status, 201, JSON.stringify(r.json));
  ctx.xss = r.json.comment.id;
  if (r.json.status !== 'approved') await approve(ctx.xss);
  // a fresh reader loads the thread with the payloads in it
  const x = await newPage({
    before: (p) => p.addInitScript(() => { window.__xss = 0; }),
  });
  await comment(x.page, 'XSS battery follows').waitFor();
  await sleep(1500); // give any onerror/onload a chance to fire
  assert.deepEqual(x.dialogs, [], 'no dialog opened');
  assert.equal(await x.page.evaluate(() => window.__xss), 0, 'no payload ran');
  const foreign = [...x.requests, ...ctx.b.requests].filter((u) => {
    const h = new URL(u).hostname;
    return h !== '127.0.0.1' && h !== 'localhost' && !u.startsWith('data:');
  });
  assert.deepEqual(foreign, [], 'no request to a foreign host');
  const bad = await x.page.evaluate(() => {
    const root = document.querySelector('#colloquy-thread').shadowRoot;
    const all = [...root.querySelectorAll('*')];
    return {
      scripts: [...root.querySelectorAll('.body :is(script, iframe, object, embed, style, link, form, svg, math)')].map((el) => el.outerHTML.slice(0, 120)),
      handlers: all.filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).map((el) => el.outerHTML.slice(0, 80)),
      js: all.filter((el) => /^\s*(javascript|data|vbscript):/i.test(el.getAttribute('href') || el.getAttribute('src') || '')).length,
    };
  });
  assert.deepEqual(bad, { scripts: [], handlers: [], js: 0 }, JSON.stringify(bad));
  await x.context.close();
});

test('the widget keeps working under hostile page CSS', T, async () => {
  const h = await newPage({
    before: (p) => p.route(`${base}/demo/`, async (route) => {
      const res = await route.fetch();
      const body = (await res.text()).replace('</head>', `<style>
        * { display: none !important; }
        html, body { display: block !important; }
        div { color: red !important; font-size: 1px !important; line-height: 0 !important; visibility: hidden !important; opacity: 0 !important; }
        #colloquy-thread { height: 0 !important; overflow: hidden !important; transform: scale(0) !important; }
        button, textarea, input, select { display: none !important; }
        :root { --fg: red; --bg: red; --accent: red; }
      </style></head>`);
      await route.fulfill({ response: res, body });
    }),
  });
  const w = widget(h.page);
  const ta = w.locator('textarea').first();
  await ta.waitFor({ state: 'visible' });
  const box = await ta.boundingBox();
  assert.ok(box && box.width > 200 && box.height > 50, `textarea is usable: ${JSON.stringify(box)}`);
  const fs = await ta.evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
  assert.ok(fs >= 14, `readable font size, got ${fs}px`);
  const color = await ta.evaluate((el) => getComputedStyle(el).color);
  assert.notEqual(color, 'rgb(255, 0, 0)');
  await w.getByLabel(/^Name/).fill('Hostile Harry');
  await w.getByLabel(/^Email/).fill('harry@example.com');
  const r = await post(h.page, 'Posted through a hostile stylesheet.');
  assert.equal(r.status, 201, JSON.stringify(r.json));
  await w.locator(`article.c[data-id="${r.json.comment.id}"]`).waitFor({ state: 'visible' });
  await shot(h.page, 'hostile-css');
  await h.context.close();
});

test('the widget works under a strict Content-Security-Policy on the blog', T, async () => {
  const refused = [];
  const c = await newPage({
    before: async (p) => {
      p.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) refused.push(m.text()); });
      await p.route(`${base}/demo/`, async (route) => {
        const res = await route.fetch();
        const body = (await res.text()).replace(/<style>[\s\S]*?<\/style>/, '').replace('<body>', '<body><p id="csp-probe" style="color: rgb(255, 0, 0)">probe</p>');
        await route.fulfill({
          response: res,
          body,
          headers: { ...res.headers(), 'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; frame-ancestors 'none'" },
        });
      });
    },
  });
  const w = widget(c.page);
  await comment(c.page, 'Declarations').waitFor();
  const bg = await w.getByRole('button', { name: 'Post Comment' }).evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.equal(bg, 'rgb(10, 91, 196)', 'the widget is styled');
  const ini = await w.locator('.ini').first().evaluate((el) => getComputedStyle(el).getPropertyValue('--h').trim());
  assert.notEqual(ini, '', 'avatar colours are set without style attributes');
  // at most the probe's own refusal below; the widget adds none
  assert.ok(refused.length <= 1 && refused.every((m) => /inline style/i.test(m)), refused.join('\n'));
  // the probe's own style attribute was refused: the policy is in force
  assert.notEqual(await c.page.locator('#csp-probe').evaluate((el) => getComputedStyle(el).color), 'rgb(255, 0, 0)');
  await c.context.close();
});

test('dark theme follows prefers-color-scheme', T, async () => {
  const d = await newPage({ colorScheme: 'dark' });
  const bg = await widget(d.page).locator('.root').evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.equal(bg, 'rgb(21, 24, 29)');
  await comment(d.page, 'Declarations').waitFor();
  await shot(d.page, 'dark-theme');
  await d.context.close();
});

test('data-lang=fr shows French strings', T, async () => {
  const f = await newPage({
    before: (p) => p.route(`${base}/demo/`, async (route) => {
      const res = await route.fetch();
      const body = (await res.text()).replace('data-site="demo"', 'data-site="demo" data-lang="fr" data-theme="dark"');
      await route.fulfill({ response: res, body });
    }),
  });
  const w = widget(f.page);
  await w.getByText('Veuillez vous connecter avec l’une de ces méthodes pour publier votre commentaire :').waitFor();
  await w.locator('.count', { hasText: 'commentaires' }).waitFor();
  await f.context.close();
});

test('a token the server no longer knows is dropped: logged-out state', T, async () => {
  const s = await newPage({
    before: (p) => p.addInitScript((key) => {
      if (!sessionStorage.getItem('seeded')) {
        sessionStorage.setItem('seeded', '1');
        localStorage.setItem(key, JSON.stringify({ token: 'stale-token-that-does-not-exist', user: { id: 'x', name: 'Ghost', provider: 'dev' } }));
      }
    }, `colloquy:token:${base}`),
  });
  const w = widget(s.page);
  await w.getByText('Please log in using one of these methods to post your comment:').waitFor();
  await comment(s.page, 'Declarations').waitFor();
  assert.equal(await s.page.evaluate((key) => localStorage.getItem(key), `colloquy:token:${base}`), null);
  await s.context.close();
});

test('log out from the form', T, async () => {
  const { page } = ctx.a;
  await widget(page).locator('form.form:not(.reply)').getByRole('button', { name: 'Log Out' }).click();
  await widget(page).getByText('Please log in using one of these methods to post your comment:').waitFor();
  assert.equal(await page.evaluate((key) => localStorage.getItem(key), `colloquy:token:${base}`), null);
});

test('keyboard: Reply opens a focused form, Escape closes it and gives focus back', T, async () => {
  const k = await newPage();
  const reply = comment(k.page, 'Declarations').locator(':scope > .row').getByRole('button', { name: 'Reply' });
  await reply.focus();
  await k.page.keyboard.press('Enter');
  const active = () => k.page.evaluate(() => {
    const a = document.querySelector('#colloquy-thread').shadowRoot.activeElement;
    return a ? `${a.tagName.toLowerCase()}:${a.textContent || a.getAttribute('aria-label') || ''}` : null;
  });
  assert.equal(await active(), 'textarea:');
  await k.page.keyboard.type('draft');
  await k.page.keyboard.press('Escape');
  assert.equal(await comment(k.page, 'Declarations').locator('form.reply').count(), 0);
  assert.equal(await active(), 'button:Reply');
  await k.context.close();
});

test('sort and "Load more" page through a long thread', { timeout: 90_000 }, async () => {
  const guest = { name: 'Pat Paginate', email: 'pat@example.com' };
  const send = (body) => http('POST', '/api/v1/sites/demo/comments', { uri: THREAD, body, guest });
  const first = await send('Pat: comment number 0');
  assert.equal(first.status, 201, first.text);
  if (first.json.status !== 'approved') await approve(first.json.comment.id);
  for (let i = 1; i <= 50; i++) {
    const r = await send(`Pat: comment number ${i}`);
    assert.equal(r.status, 201, r.text);
    if (r.json.status !== 'approved') await approve(r.json.comment.id);
  }
  const l = await newPage();
  const w = widget(l.page);
  const roots = w.locator('.list > article.c');
  await w.getByRole('button', { name: 'Load more comments' }).waitFor();
  assert.equal(await roots.count(), 50);
  const total = Number((await w.locator('.count').textContent()).match(/\d+/)[0]);
  await w.getByRole('button', { name: 'Load more comments' }).click();
  await comment(l.page, 'Pat: comment number 50').waitFor();
  await w.getByRole('button', { name: 'Load more comments' }).waitFor({ state: 'hidden' });
  assert.ok(await roots.count() > 50, 'the second page was added');
  assert.ok(total >= 51, `the count says ${total}`);
  // newest first: Pat's last comment on top
  await w.getByLabel('Sort by').selectOption('newest');
  await w.locator('.list > article.c').first().locator('.body', { hasText: 'Pat: comment number 50' }).waitFor();
  await l.context.close();
});

test('the OpenAPI document is valid OpenAPI 3.1', T, async () => {
  const doc = await (await fetch(`${base}/api/openapi.json`)).json();
  assert.match(doc.openapi, /^3\.1/);
  assert.ok(Object.keys(doc.paths || {}).length > 0, 'paths is non-empty');
  const { valid, errors } = await new Validator().validate(doc);
  assert.ok(valid, `the document is invalid:\n${JSON.stringify(errors, null, 2)}`);
});

/** A fresh end-user session through the dev provider, over plain HTTP (no browser). */
async function devToken(name) {
  const start = await fetch(`${base}/auth/dev/login?site=demo&origin=${encodeURIComponent(base)}`, { redirect: 'manual' });
  const state = new URL(start.headers.get('location'), base).searchParams.get('state');
  assert.ok(state, `dev login answered ${start.status} without a state`);
  const page = await (await fetch(`${base}/auth/dev/callback`, { method: 'POST', body: new URLSearchParams({ state, name }) })).text();
  const token = page.match(/"token":"([^"]+)"/)?.[1];
  assert.ok(token, `no token in the dev callback page: ${page.slice(0, 300)}`);
  return token;
}

test('real answers match the OpenAPI schemas', { timeout: 120_000 }, async (t) => {
  const doc = await (await fetch(`${base}/api/openapi.json`)).json();
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv); // date-time, email, uuid, int32, int64, password…
  ajv.addSchema(doc, 'openapi.json');
  // A second view, for a diagnostic only: every documented object closed (unevaluatedProperties:
  // false), to list fields the server sends but the document doesn't name.
  // (A schema some allOf builds on stays open: the composite is closed instead.)
  const closed = structuredClone(doc);
  const bases = new Set(Object.values(closed.components.schemas).flatMap((s) => (s.allOf || []).map((b) => b.$ref)).filter(Boolean));
  for (const [name, s] of Object.entries(closed.components.schemas)) {
    if (bases.has(`#/components/schemas/${name}`) || s.additionalProperties !== undefined) continue;
    if ((s.type === 'object' && s.properties) || s.allOf) s.unevaluatedProperties = false;
  }
  const ajvClosed = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajvClosed);
  ajvClosed.addSchema(closed, 'openapi.json');

  const esc = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');
  const deref = (obj, ptr) => { // follows a Reference Object; returns [object, its pointer]
    while (obj && obj.$ref) {
      ptr = obj.$ref.slice(1);
      obj = ptr.split('/').slice(1).reduce((o, k) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
    }
    return [obj, ptr];
  };
  const validators = new Map();
  const validator = (a, ptr) => {
    const key = `${a === ajv}:${ptr}`;
    if (!validators.has(key)) validators.set(key, a.compile({ $ref: `openapi.json#${ptr}` }));
    return validators.get(key);
  };
  const failures = [], extras = [], seen = [];
  const snippet = (text) => (text.length > 400 ? `${text.slice(0, 400)}…` : text);
  const fmt = (errors) => errors.map((e) => `${e.instancePath || '/'} ${e.message}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''} (schema ${e.schemaPath})`).join('\n      ');

  /** One real call, checked against the document's answer for (template, method, status). */
  async function call(method, template, { params = {}, query, body, token, expect, headers = {}, raw } = {}) {
    const missing = [...template.matchAll(/\{(\w+)\}/g)].map((x) => x[1]).filter((k) => params[k] == null);
    if (missing.length) { // an earlier call failed to give it: said, and the test goes on
      failures.push(`${method} ${template}: not called, no ${missing.join(', ')} (an earlier call failed)`);
      return { status: 0, json: undefined, text: '', res: new Response() };
    }
    let p = template.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(params[k]));
    if (query) p += `?${new URLSearchParams(query)}`;
    const res = await fetch(base + p, {
      method,
      headers: {
        ...(body !== undefined && raw === undefined ? { 'Content-Type': 'application/json' } : {}),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: raw !== undefined ? raw : body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    const where = `${method} ${template} → ${res.status}`;
    seen.push(where);
    const fail = (what) => failures.push(`${where} (${p}): ${what}\n    body: ${snippet(text) || '(empty)'}`);
    if (expect !== undefined && res.status !== expect) fail(`expected ${expect} (the test's own expectation)`);
    const m = method.toLowerCase();
    const opPtr = `/paths/${esc(template)}/${m}`;
    const op = doc.paths[template]?.[m];
    if (!op) { fail('the operation is not in the document'); return { status: res.status, json, text, res }; }
    let [resp, respPtr] = deref(op.responses?.[String(res.status)], `${opPtr}/responses/${res.status}`);
    if (!resp) [resp, respPtr] = deref(op.responses?.[`${String(res.status)[0]}XX`] ?? op.responses?.default, `${opPtr}/responses/default`);
    if (!resp) {
      fail(`status ${res.status} is not documented (documented: ${Object.keys(op.responses || {}).join(', ')})`);
    } else if (!resp.content) {
      if (text !== '') fail('documented without a body, but the answer has one');
    } else if (resp.content['application/json']) {
      const type = res.headers.get('content-type') || '';
      if (!/^application\/json\b/.test(type)) fail(`documented as application/json, sent as ${type || 'no content type'}`);
      if (json === undefined) fail('the body is not JSON');
      else {
        const ptr = `${respPtr}/content/application~1json/schema`;
        const v = validator(ajv, ptr);
        if (!v(json)) fail(`the body does not match ${ptr}:\n      ${fmt(v.errors)}`);
        else {
          const c = validator(ajvClosed, ptr);
          if (!c(json)) extras.push(`${where}: ${c.errors.map((e) => `${e.instancePath || '/'}.${e.params.unevaluatedProperty}`).join(', ')}`);
        }
      }
    } else {
      fail(`documented as ${Object.keys(resp.content).join(', ')}, not checked here`);
    }
    return { status: res.status, json, text, res };
  }
  const site = { site: 'demo' };
  const uri = `/contract/${randomBytes(4).toString('hex')}/`;
  const mod = (opts = {}) => ({ ...opts, token: modToken, params: { ...site, ...opts.params } });

  // public, logged out
  await call('GET', '/health/live', { expect: 200 });
  await call('GET', '/health/ready', { expect: 200 });
  await call('GET', '/api/v1/sites/{site}', { params: site, expect: 200 });
  await call('GET', '/api/v1/sites/{site}/counts', { params: site, query: { uri: THREAD }, expect: 200 });
  await call('GET', '/api/v1/sites/{site}/thread', { params: site, query: { uri: THREAD }, expect: 200 });

  // a thread of our own: a user's comment, a guest's reply, a user's reply to that
  const user = await devToken('Connie Contract');
  const me = await call('GET', '/api/v1/me', { token: user, expect: 200 });
  const root = await call('POST', '/api/v1/sites/{site}/comments', { params: site, token: user, body: { uri, title: 'Contract', body: 'Root *comment* with a [link](https://example.com/).' }, expect: 201 });
  const rootId = root.json?.comment?.id;
  // (a first comment may be held, and only a published one can be replied to)
  if (root.json?.status !== 'approved') await call('POST', '/api/mod/v1/comments/{id}/actions', mod({ params: { id: rootId }, body: { action: 'approve', note: 'contract test' }, expect: 200 }));
  const guestReply = await call('POST', '/api/v1/sites/{site}/comments', {
    params: site, body: { uri, parent_id: rootId, body: 'A guest reply.', guest: { name: 'Gus Guest', email: 'gus@example.com', website: 'https://gus.example.org/' } }, expect: 201,
  });
  const guestId = guestReply.json?.comment?.id;
  await call('GET', '/api/mod/v1/sites/{site}/queue', mod({ expect: 200 }));
  await call('GET', '/api/mod/v1/sites/{site}/queue', mod({ query: { status: 'pending', limit: '5' }, expect: 200 }));
  const claim = await call('POST', '/api/mod/v1/sites/{site}/queue/claim', mod({ body: { limit: 1 }, expect: 200 }));
  const claimed = claim.json?.items?.[0]?.comment?.id; // the oldest waiting, maybe another test's
  if (claimed) await call('POST', '/api/mod/v1/comments/{id}/release', mod({ params: { id: claimed }, expect: 200 }));
  if (guestReply.json?.status !== 'approved') await call('POST', '/api/mod/v1/comments/{id}/actions', mod({ params: { id: guestId }, body: { action: 'approve' }, expect: 200 }));
  const deep = await call('POST', '/api/v1/sites/{site}/comments', { params: site, token: user, body: { uri, parent_id: guestId, body: 'A reply to the reply.' }, expect: 201 });
  const deepId = deep.json?.comment?.id;
  if (deep.json?.status !== 'approved') await call('POST', '/api/mod/v1/comments/{id}/actions', mod({ params: { id: deepId }, body: { action: 'approve' }, expect: 200 }));
  const thread = await call('GET', '/api/v1/sites/{site}/thread', { params: site, query: { uri, sort: 'oldest' }, expect: 200 });
  await call('GET', '/api/v1/sites/{site}/thread', { params: site, query: { uri, sort: 'newest', limit: '1' }, token: user, expect: 200 });
  const etag = thread.res.headers.get('etag');
  if (etag) await call('GET', '/api/v1/sites/{site}/thread', { params: site, query: { uri, sort: 'oldest' }, headers: { 'If-None-Match': etag }, expect: 304 });
  await call('GET', '/api/v1/sites/{site}/counts', { params: site, query: { uri }, expect: 200 });

  // the author's own actions, and a reader's on someone else's comment
  await call('PATCH', '/api/v1/comments/{id}', { params: { id: deepId }, token: user, body: { body: 'A reply to the reply (edited).' }, expect: 200 });
  await call('PUT', '/api/v1/comments/{id}/vote', { params: { id: guestId }, token: user, body: { value: 1 }, expect: 200 });
  await call('POST', '/api/v1/comments/{id}/flags', { params: { id: guestId }, token: user, body: { reason: 'off_topic', note: 'contract test' }, expect: 201 });
  await call('GET', '/api/v1/me/appeals', { token: user, expect: 200 });
  // the account page's API (its cookie, its CSRF header), the same person
  const acct = await accountHeaders('Connie Contract');
  await call('GET', '/account/api/providers', { headers: acct, expect: 200 });
  await call('GET', '/account/api/me', { headers: acct, expect: 200 });
  await call('GET', '/account/api/comments', { headers: acct, query: { limit: 2 }, expect: 200 });
  await call('GET', '/account/api/export', { headers: acct, expect: 200 });
  await call('GET', '/account/api/me', { headers: { 'X-Colloquy-Account': '1' }, expect: 401 });
  await call('GET', '/account/api/me', { token: user, headers: { 'X-Colloquy-Account': '1' }, expect: 401 });
  await call('DELETE', '/account/api/me', { headers: { ...acct, Origin: 'https://evil.example' }, query: { confirm: 'erase' }, expect: 403 });

  // the moderator API
  await call('GET', '/api/mod/v1/sites', { token: modToken, expect: 200 });
  await call('GET', '/api/mod/v1/sites/{site}', mod({ expect: 200 }));
  await call('PATCH', '/api/mod/v1/sites/{site}', mod({ body: { closed: false }, expect: 200 }));
  await call('GET', '/api/mod/v1/sites/{site}/comments', mod({ query: { q: 'reply' }, expect: 200 }));
  await call('GET', '/api/mod/v1/sites/{site}/comments', mod({ query: { thread: uri, status: 'approved' }, expect: 200 }));
  await call('GET', '/api/mod/v1/comments/{id}/history', mod({ params: { id: deepId }, expect: 200 }));
  await call('PATCH', '/api/mod/v1/comments/{id}', mod({ params: { id: rootId }, body: { body: 'Root comment, tidied by a moderator.' }, expect: 200 }));
  await call('POST', '/api/mod/v1/sites/{site}/actions', mod({ body: { ids: [rootId, guestId, '00000000-0000-0000-0000-000000000000'], action: 'approve', note: 'bulk' }, expect: 200 }));
  await call('GET', '/api/mod/v1/sites/{site}/audit', mod({ query: { limit: '20' }, expect: 200 }));
  // a rejected comment, its author's appeal, and the decision
  const rejected = await call('POST', '/api/v1/sites/{site}/comments', { params: site, token: user, body: { uri, body: 'Soon to be rejected.' }, expect: 201 });
  const rejectedId = rejected.json?.comment?.id;
  await call('POST', '/api/mod/v1/comments/{id}/actions', mod({ params: { id: rejectedId }, body: { action: 'reject', note: 'contract test' }, expect: 200 }));
  const appeal = await call('POST', '/api/v1/comments/{id}/appeal', { params: { id: rejectedId }, token: user, body: { message: 'Please look again.' }, expect: 201 });
  await call('POST', '/api/v1/comments/{id}/appeal', { params: { id: rejectedId }, token: user, body: { message: 'Again.' }, expect: 409 });
  await call('GET', '/api/v1/me/appeals', { token: user, expect: 200 }); // with one in it
  await call('GET', '/api/mod/v1/sites/{site}/appeals', mod({ expect: 200 }));
  await call('POST', '/api/mod/v1/appeals/{id}/actions', mod({ params: { id: appeal.json?.id }, body: { action: 'uphold', note: 'contract test' }, expect: 200 }));
  if (me.json?.id) {
    await call('GET', '/api/mod/v1/sites/{site}/users/{id}', mod({ params: { id: me.json.id }, expect: 200 }));
    await call('PATCH', '/api/mod/v1/sites/{site}/users/{id}', mod({ params: { id: me.json.id }, body: { premoderated: false }, expect: 200 }));
  }
  await call('GET', '/api/mod/v1/sites/{site}/bans', mod({ expect: 200 }));
  const ban = await call('POST', '/api/mod/v1/sites/{site}/bans', mod({ body: { email: 'troll-contract@example.com', reason: 'contract test', until: '2099-01-31T00:00:00Z' }, expect: 201 }));
  if (ban.json?.id) {
    await call('GET', '/api/mod/v1/sites/{site}/bans/{id}', mod({ params: { id: ban.json.id }, expect: 200 }));
    await call('GET', '/api/mod/v1/sites/{site}/bans', mod({ expect: 200 })); // with one in it
    await call('DELETE', '/api/mod/v1/sites/{site}/bans/{id}', mod({ params: { id: ban.json.id }, expect: 204 }));
  }
  const rule = await call('POST', '/api/mod/v1/sites/{site}/rules', mod({ body: { kind: 'word', pattern: 'zzcontractzz', action: 'hold', note: 'contract test' }, expect: 201 }));
  if (rule.json?.id) {
    await call('GET', '/api/mod/v1/sites/{site}/rules', mod({ expect: 200 }));
    await call('GET', '/api/mod/v1/sites/{site}/rules/{id}', mod({ params: { id: rule.json.id }, expect: 200 }));
    await call('PATCH', '/api/mod/v1/sites/{site}/rules/{id}', mod({ params: { id: rule.json.id }, body: { enabled: false, note: '' }, expect: 200 }));
    await call('DELETE', '/api/mod/v1/sites/{site}/rules/{id}', mod({ params: { id: rule.json.id }, expect: 204 }));
  }
  await call('POST', '/api/mod/v1/sites/{site}/rules/dry-run', mod({ body: { rules: [{ kind: 'word', pattern: 'reply', action: 'spam' }], sample: 50 }, expect: 200 }));
  await call('GET', '/api/mod/v1/sites/{site}/moderators', mod({ expect: 200 }));
  // Moderators join by invitation: invite, list, accept with the invitee's own password,
  // change the role, remove; a second invitation is revoked.
  const invite = (who) => call('POST', '/api/mod/v1/sites/{site}/moderators', mod({ body: { email: `contract-${who}-${uri.split('/')[2]}@example.com`, role: 'moderator' }, expect: 201 }));
  const inv = await invite('a');
  await call('GET', '/api/mod/v1/sites/{site}/invitations', mod({ expect: 200 }));
  const joined = await call('POST', '/api/mod/v1/invitations/accept', { body: { token: inv.json?.token, new_password: 'a long enough contract password' }, expect: 200 });
  await call('POST', '/api/mod/v1/invitations/accept', { body: { token: inv.json?.token, new_password: 'a long enough contract password' }, expect: 410 });
  await call('PATCH', '/api/mod/v1/sites/{site}/moderators/{id}', mod({ params: { id: joined.json?.moderator_id }, body: { role: 'owner' }, expect: 200 }));
  await call('DELETE', '/api/mod/v1/sites/{site}/moderators/{id}', mod({ params: { id: joined.json?.moderator_id }, expect: 204 }));
  const inv2 = await invite('b');
  await call('DELETE', '/api/mod/v1/sites/{site}/invitations/{id}', mod({ params: { id: inv2.json?.id }, expect: 204 }));
  await call('GET', '/api/mod/v1/me/audit', mod({ expect: 200 }));
  await call('POST', '/api/mod/v1/me/password', mod({ body: { current_password: 'not the password', new_password: 'another long enough password' }, expect: 403 }));
  const session = await call('POST', '/api/mod/v1/login', { body: MOD, expect: 200 });
  await call('POST', '/api/mod/v1/logout', { token: session.json?.token, expect: 204 });
  await call('GET', '/api/mod/v1/tokens', { token: modToken, expect: 200 });
  const tok = await call('POST', '/api/mod/v1/tokens', { token: modToken, body: { name: `contract ${uri}`, expires_at: '2099-01-31T00:00:00Z' }, expect: 201 });
  await call('POST', '/api/mod/v1/tokens', { token: modToken, body: { name: `contract ${uri}` }, expect: 409 });
  await call('GET', '/api/mod/v1/tokens', { token: modToken, expect: 200 }); // with one in it
  if (tok.json?.id) await call('DELETE', '/api/mod/v1/tokens/{id}', { token: modToken, params: { id: tok.json.id }, expect: 204 });

  // deleting, then error answers against their documented error schema
  await call('DELETE', '/api/v1/comments/{id}', { params: { id: deepId }, token: user, expect: 204 });
  await call('GET', '/api/v1/sites/{site}', { params: { site: 'no-such-site' }, expect: 404 });
  await call('GET', '/api/v1/sites/{site}/thread', { params: { site: 'no-such-site' }, query: { uri }, expect: 404 });
  await call('GET', '/api/v1/sites/{site}/thread', { params: site, expect: 400 }); // no uri
  await call('POST', '/api/v1/sites/{site}/comments', { params: site, body: { uri, body: 'x', guest: { name: 'Bad', email: 'not-an-email' } }, expect: 400 });
  await call('POST', '/api/v1/sites/{site}/comments', { params: site, body: { uri, body: 'x', surprise: 1 }, expect: 400 });
  await call('POST', '/api/v1/sites/{site}/comments', { params: site, raw: 'body', headers: { 'Content-Type': 'text/plain' }, expect: 415 });
  await call('GET', '/api/v1/me', { expect: 401 });
  await call('GET', '/api/v1/me', { token: 'not-a-token', expect: 401 });
  await call('GET', '/api/mod/v1/sites', { expect: 401 });
  await call('GET', '/api/mod/v1/sites/{site}', mod({ params: { site: 'no-such-site' }, expect: 404 }));
  await call('GET', '/api/mod/v1/comments/{id}/history', mod({ params: { id: '00000000-0000-0000-0000-000000000000' }, expect: 404 }));
  await call('GET', '/api/mod/v1/sites/{site}/rules/{id}', mod({ params: { id: '00000000-0000-0000-0000-000000000000' }, expect: 404 }));
  await call('POST', '/api/mod/v1/sites/{site}/bans', mod({ body: { reason: 'none of the three' }, expect: 400 }));
  await call('POST', '/api/mod/v1/login', { body: { email: MOD.email, password: 'wrong' }, expect: 401 });
  await call('POST', '/api/v1/logout', { token: user, expect: 204 });
  await call('DELETE', '/account/api/me', { headers: await accountHeaders('Dora Deleted'), query: { confirm: 'erase' }, expect: 204 });

  t.diagnostic(`${seen.length} answers checked`);
  if (extras.length) t.diagnostic('fields sent but not documented (not a failure):');
  for (const e of extras) t.diagnostic(`  ${e}`);
  assert.ok(failures.length === 0, `${failures.length} of ${seen.length} answers do not match the document:\n\n${failures.join('\n\n')}`);
});

test('/api/docs renders every operation offline, under its CSP', T, async () => {
  const doc = await (await fetch(`${base}/api/openapi.json`)).json();
  const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
  const ops = Object.values(doc.paths).reduce((n, item) => n + methods.filter((m) => item[m]).length, 0);
  const failed = [], problems = [];
  const d = await newPage({
    url: `${base}/api/docs`,
    before: (p) => {
      p.on('requestfailed', (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`));
      p.on('console', (m) => { if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(m.text()); });
      p.on('pageerror', (e) => problems.push(e.message));
    },
  });
  await waitFor('Swagger UI to render its operations', async () => await d.page.locator('.opblock').count() > 10);
  await sleep(500); // let the last tags render
  assert.equal(await d.page.locator('.opblock').count(), ops, 'one block per operation');
  const foreign = d.requests.filter((u) => { const x = new URL(u); return x.protocol !== 'data:' && !(['127.0.0.1', 'localhost'].includes(x.hostname) && x.port === String(port)); });
  assert.deepEqual(foreign, [], 'every request goes to the test server');
  assert.deepEqual(failed, [], 'no request failed or was aborted');
  assert.deepEqual(problems, [], 'no console error, CSP violation or page error');
  await d.page.screenshot({ path: path.join(ARTIFACTS, 'docs.png') });
  await d.context.close();
});

test('the account page: log in, comments from two blogs, link a login, export, erase; the widget links to it', { timeout: 120_000 }, async () => {
  const NAME = 'Ava Account';
  // A second blog on this server, with the dev login; Ava comments there through its popup flow.
  execFileSync(BIN, ['site', 'create', '--slug', 'second', '--name', 'Second blog', '--origin', `http://127.0.0.1:${port}`, '--provider', 'dev'], {
    cwd: ROOT,
    env: { ...process.env, COLLOQUY_ENV: 'development', COLLOQUY__DATABASE__URL: `${PG}/${DB}` },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const start = await fetch(`${base}/auth/dev/login?site=second&origin=${encodeURIComponent(`http://127.0.0.1:${port}`)}`, { redirect: 'manual' });
  const state = new URL(start.headers.get('location'), base).searchParams.get('state');
  const popupPage = await (await fetch(`${base}/auth/dev/callback`, { method: 'POST', body: new URLSearchParams({ state, name: NAME }) })).text();
  const secondToken = JSON.parse(popupPage.match(/var d = (.*);\n/)[1]).message.token;
  const second = await http('POST', '/api/v1/sites/second/comments', { uri: '/elsewhere/', title: 'A page elsewhere', body: 'Words on the second blog' }, secondToken);
  assert.equal(second.status, 201, second.text);

  // On the demo blog, through the widget: the account link is there, and Ava comments.
  const a = await newPage();
  const w = widget(a.page);
  await devLogin(a.page, NAME);
  const main = w.locator('form.form:not(.reply)');
  const link = main.locator('a.account');
  await link.waitFor();
  assert.equal(await link.getAttribute('href'), `${base}/account/`);
  assert.equal(await link.getAttribute('target'), '_blank');
  assert.match(await link.getAttribute('rel'), /noopener/);
  assert.equal(await main.locator('[data-link]').count(), 0, 'no linking from a blog page');
  const posted = await post(a.page, 'Words on the demo blog');
  assert.equal(posted.status, 201, JSON.stringify(posted.json));
  await a.context.close();

  // The account page, in its own browser: log in with the dev login, in the same window.
  const p = await newPage({ url: `${base}/account/` });
  const page = p.page;
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  await page.locator('#providers a[data-provider="dev"]').click();
  await page.getByLabel('Name').fill(NAME);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(/\/account\/(#.*)?$/);
  await page.locator('#name').filter({ hasText: NAME }).waitFor();
  const items = page.locator('#comment-list li.comment');
  await items.nth(1).waitFor();
  assert.equal(await items.count(), 2);
  const sites = (await items.locator('.site').allTextContents()).sort();
  assert.deepEqual(sites, ['Colloquy demo blog', 'Second blog']);
  await page.locator('#comment-list').getByText('Words on the second blog').waitFor();
  await page.locator('#comment-list a', { hasText: 'A page elsewhere' }).waitFor();
  const cookies = await p.context.cookies(base);
  const acct = cookies.find((c) => c.name === 'colloquy-account');
  assert.ok(acct && acct.httpOnly && acct.sameSite === 'Strict', JSON.stringify(cookies));
  assert.equal(await page.evaluate(() => document.cookie), '', 'the page script never sees its session');

  // Link a WordPress.com login: to the provider (another site) and back, in this window.
  await page.locator('#link-providers button[data-link="wordpress"]').click();
  await page.waitForURL(/\/account\/(#.*)?$/);
  await page.locator('#notice').getByText('Your WordPress.com login is linked').waitFor();
  await page.locator('#identities li[data-identity="wordpress"]').waitFor();
  assert.equal(await page.locator('#identities li').count(), 2);
  await page.screenshot({ path: path.join(ARTIFACTS, 'account.png'), fullPage: true });

  // Export: a JSON download of everything.
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export').click()]);
  assert.equal(download.suggestedFilename(), 'colloquy-export.json');
  const { readFileSync } = await import('node:fs');
  const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.equal(exported.user.name, NAME);
  assert.equal(exported.comments.length, 2);
  assert.deepEqual(exported.identities.map((i) => i.provider).sort(), ['dev', 'wordpress']);

  // Erase: only after the confirmation box is ticked.
  const erase = page.locator('#erase-button');
  assert.equal(await erase.isDisabled(), true);
  await page.locator('#erase-confirm').check();
  await erase.click();
  await page.locator('#notice').getByText('Your account was erased').waitFor();
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  const left = execFileSync('psql', [`${PG}/${DB}`, '-Atc', `SELECT count(*) FROM users WHERE name = '${NAME}'`]).toString().trim();
  assert.equal(left, '0');
  const kept = execFileSync('psql', [`${PG}/${DB}`, '-Atc', "SELECT count(*) FROM comments WHERE author_name = 'deleted user'"]).toString().trim();
  assert.equal(kept, '2', 'comments kept as "deleted user"');
  // The blog token of the erased account is gone too.
  assert.equal((await http('GET', '/api/v1/me', undefined, secondToken)).status, 401);
  await p.context.close();
});

test('no script errors in any page', () => {
  assert.deepEqual(pageErrors, []);
});
