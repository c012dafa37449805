// The JavaScript client (Sources/Dashboard/Assets/ticker-client.js) under
// Node, with Debian's node-ws, against a live `ticker serve --auth-keys KEYS`
// (docs/PROTOCOL.md, "Auth: tokens and entitlements"). Run by
// Scripts/js-client-test.sh, which starts that server.
//
//   NODE_PATH=/usr/share/nodejs:/usr/lib/nodejs node js_client_auth_test.mjs HOST PORT KEYS TICKER_BIN
//
// Tokens come from `ticker token` (the operator's tool), except the expired
// one, minted here with HS256 and an `exp` in the past so no test waits for
// a clock. Checks:
//   - option errors (token not a string, token and tokenProvider together);
//   - a fixed token: sent as ?token= but never in `connected.url`,
//     `client.url` or any event; a symbol outside its entitlement is refused
//     with `forbidden` and dropped, the rest ticks; `*` means the entitled ones;
//   - no token, an expired token (4401), a publish-role token (4403): the
//     client stops with `unauthorized` and `closed` (a TickerAuthError) after
//     exactly one attempt, no reconnect loop;
//   - max_conns 1 (4429): the second client retries with back-off and gets in
//     once the first leaves;
//   - a provider whose first token is expired: 4401, then a fresh token, in;
//   - a provider minting 33-second tokens: `token_expiring` within seconds,
//     `auth` with a fresh token, `authenticated`, again and again; a narrower
//     token ends NVDA with `unsubscribed` reason `entitlement`; the one
//     connection outlives the first token's `exp` with no gap and no reconnect.
// Prints one line per check and exits non-zero when any failed.
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checker, sleep, until } from './harness.mjs';

const require = createRequire(import.meta.url);
const WebSocket = require('ws');            // Debian's node-ws, found through NODE_PATH
const [host, port, keysPath, tickerBin] = process.argv.slice(2);
if (!host || !port || !keysPath || !tickerBin) { console.error('usage: js_client_auth_test.mjs HOST PORT KEYS TICKER_BIN'); process.exit(2); }
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { TickerClient, TickerAuthError } = await import(pathToFileURL(join(root, 'Sources/Dashboard/Assets/ticker-client.js')).href);
const url = `ws://${host}:${port}/v1/stream`;
const TTL_S = 33;                            // the server warns 30 s ahead: token_expiring after ~3 s

setTimeout(() => { console.log('js-client-auth: FAIL watchdog: the test did not finish within 75 s'); process.exit(1); }, 75_000).unref();

const { check, throwsLike, finish } = checker('js-client-auth');

// ------------------------------------------------------------ tokens
/** `ticker token` with these options, as an operator would mint one. */
function mint({ sub = 'js-test', symbols = 'AAPL,MSFT', ttl = '1h', role, maxConns } = {}) {
  const args = ['token', '--auth-keys', keysPath, '--sub', sub, '--symbols', symbols, '--ttl', String(ttl)];
  if (role) args.push('--role', role);
  if (maxConns) args.push('--max-conns', String(maxConns));
  return new Promise((resolve, reject) => execFile(tickerBin, args, { timeout: 5000 }, (err, out, errText) => {
    if (err) reject(new Error(`ticker token failed: ${errText || err.message}`)); else resolve(out.trim());
  }));
}
/** An HS256 token that expired a minute ago, signed with the file's first key (RFC 7519 by hand). */
function mintExpired(sub, symbols) {
  const [kid, secret] = readFileSync(keysPath, 'utf8').split('\n')[0].trim().split(/:(.*)/s);
  const b64url = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const signing = b64url({ alg: 'HS256', typ: 'JWT', kid }) + '.' + b64url({ sub, exp: now - 60, iat: now - 120, symbols });
  return signing + '.' + createHmac('sha256', Buffer.from(secret, 'base64')).update(signing).digest('base64url');
}
const claims = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());

/** A WebSocket class that remembers every URL it was opened with (one per connection attempt). */
function countingWebSocket(urls) {
  return class extends WebSocket {
    constructor(address, ...rest) { urls.push(String(address)); super(address, ...rest); }
  };
}

/** A client and everything it reported (ticks counted per symbol, with the sequence rule checked here too). */
function watch(options) {
  const attempts = [];
  const client = new TickerClient({ url, WebSocket: countingWebSocket(attempts), backoff: { initialMs: 100, maxMs: 500 }, ...options });
  const w = { client, attempts, events: [], ticks: {}, jumps: [], last: {}, lastTickAt: {} };
  for (const type of ['connected', 'subscribed', 'unsubscribed', 'resumed', 'reset', 'gap', 'error', 'disconnected',
    'token_expiring', 'authenticated', 'unauthorized', 'closed']) {
    client.addEventListener(type, (e) => {
      const fields = Object.fromEntries(Object.keys(e).map((k) => [k, e[k]]));
      w.events.push({ ...fields, type, at: Date.now() });
    });
  }
  client.addEventListener('ticks', (e) => {
    for (const t of e.ticks) {
      if (!t.symbol) continue;
      w.ticks[t.symbol] = (w.ticks[t.symbol] || 0) + 1;
      const prev = w.last[t.symbol];
      if (prev !== undefined && !t.snapshot && t.sequence !== prev + 1 + t.conflatedCount) w.jumps.push(`${t.symbol} ${prev}->${t.sequence}`);
      w.last[t.symbol] = t.sequence;
      w.lastTickAt[t.symbol] = Date.now();
    }
  });
  w.of = (type) => w.events.filter((e) => e.type === type);
  /** Every event as text (the `closed` error by its message): where a token must never appear. */
  w.text = () => JSON.stringify(w.events.map((e) => ({ ...e, error: e.error ? `${e.error.name}: ${e.error.message}` : e.error })))
    + ` url ${client.url}`;
  return w;
}

// ------------------------------------------------------------ option errors
const someToken = await mint();
throwsLike(() => new TickerClient({ url, symbols: ['AAPL'], WebSocket, token: 42 }), /token must be a non-empty string/, 'token that is not a string', TypeError);
throwsLike(() => new TickerClient({ url, symbols: ['AAPL'], WebSocket, token: '' }), /token must be a non-empty string/, 'empty token', TypeError);
throwsLike(() => new TickerClient({ url, symbols: ['AAPL'], WebSocket, tokenProvider: 'abc' }), /tokenProvider must be a function/, 'tokenProvider that is not a function', TypeError);
throwsLike(() => new TickerClient({ url, symbols: ['AAPL'], WebSocket, token: someToken, tokenProvider: async () => someToken }),
  /token or tokenProvider, not both/, 'token and tokenProvider together', TypeError);

// ------------------------------------------------------------ the refresh run, in the background
// A provider minting 33-second tokens: the first connection would be closed
// at its exp without a refresh. Calls: 1 the attempt, 2 the first refresh
// (same symbols), 3 the second refresh (NVDA no longer allowed), then more.
const providerCalls = [];
const refresh = watch({
  symbols: ['AAPL', 'MSFT', 'NVDA'],
  tokenProvider: async () => {
    const narrow = providerCalls.length >= 2;
    const token = await mint({ sub: 'js-refresh', symbols: narrow ? 'AAPL,MSFT' : 'AAPL,MSFT,NVDA', ttl: `${TTL_S}s` });
    providerCalls.push({ at: Date.now(), exp: claims(token).exp, narrow, token });
    return token;
  },
});
const refreshStarted = Date.now();

try {
  // ---------------------------------------------------------- a fixed token
  {
    const token = await mint({ sub: 'js-fixed', symbols: 'AAPL,MSFT' });
    const w = watch({ symbols: ['AAPL', 'MSFT', 'NVDA'], token });
    await until(() => w.ticks.AAPL > 0 && w.ticks.MSFT > 0, 10_000, 'ticks with a fixed token');
    const c = w.of('connected')[0];
    check(c && c.url === url && w.client.url === url, `connected ${c && c.url} (no token in the event or client.url)`);
    check(w.attempts.length === 1 && new URL(w.attempts[0]).searchParams.get('token') === token,
      `the socket was opened with ?token= (${w.attempts.length} attempt)`);
    const forbidden = w.of('error').find((e) => e.code === 'forbidden');
    check(forbidden && forbidden.symbols.join() === 'NVDA' && forbidden.op === 'subscribe',
      `NVDA outside the token refused: ${forbidden && `${forbidden.code} ${forbidden.symbols} (${forbidden.message})`}`);
    check(w.client.symbols.join() === 'AAPL,MSFT', `NVDA dropped, the rest asked again: symbols ${w.client.symbols}`);
    await sleep(500);
    check(!w.ticks.NVDA && w.ticks.AAPL > 0 && w.ticks.MSFT > 0, `ticks for AAPL ${w.ticks.AAPL}, MSFT ${w.ticks.MSFT}, NVDA ${w.ticks.NVDA || 0}`);
    check(!w.text().includes(token), 'the token appears in no event');
    w.client.close();

    const all = watch({ symbols: ['*'], token });
    await until(() => all.of('subscribed').length > 0, 5_000, "the answer to '*'");
    const names = all.of('subscribed')[0].symbols.map((r) => r.symbol).sort().join();
    check(names === 'AAPL,MSFT', `'*' subscribes the entitled symbols only: ${names}`);
    all.client.close();
  }

  // ---------------------------------------------------------- refusals that end the client
  const stops = [
    ['no token', {}, 4401, /4401: the token is missing/],
    ['an expired token', { token: mintExpired('js-expired', ['AAPL']) }, 4401, /4401: the token is invalid, expired or revoked \(token has expired\)/],
    ['a publish-role token', { token: await mint({ sub: 'js-publisher', role: 'publish' }) }, 4403, /4403: the token's role may not read the stream/],
  ];
  const stopped = stops.map(([what, options, code, pattern]) => ({ what, options, code, pattern, w: watch({ symbols: ['AAPL'], ...options }) }));
  await until(() => stopped.every((s) => s.w.of('closed').length), 5_000, 'the refused clients to stop');
  await sleep(2500);                         // a reconnect loop (100 ms back-off) would have tried ~10 more times by now
  for (const { what, options, code, pattern, w } of stopped) {
    const u = w.of('unauthorized')[0];
    const closed = w.of('closed')[0];
    check(u && u.code === code && pattern.test(u.message) && closed.error instanceof TickerAuthError && closed.error.code === code
      && w.client.state === 'closed',
      `${what}: unauthorized ${u && u.code} (${u && u.message}), closed with ${closed.error && closed.error.name}`);
    check(w.attempts.length === 1 && w.of('connected').length === 0,
      `${what}: ${w.attempts.length} connection attempt over 2.5 s after the close, no reconnect loop`);
    if (options.token) check(!w.text().includes(options.token), `${what}: the token appears in no event`);
  }

  // ---------------------------------------------------------- max_conns: 4429 is retried
  {
    const token = await mint({ sub: 'js-limited', maxConns: 1 });
    const first = watch({ symbols: ['AAPL'], token });
    await until(() => first.ticks.AAPL > 0, 5_000, 'the first connection of a max_conns 1 subject');
    const second = watch({ symbols: ['AAPL'], token });
    await until(() => second.of('disconnected').filter((e) => e.code === 4429).length >= 2, 5_000, 'the second connection refused twice');
    const refused = second.of('disconnected').filter((e) => e.code === 4429);
    check(refused.every((e) => e.retryInMs !== null) && second.of('unauthorized').length === 0,
      `4429 retried with back-off: ${refused.length} refusals, retry in ${refused.map((e) => e.retryInMs).join(', ')} ms`);
    first.client.close();
    await until(() => second.ticks.AAPL > 0, 5_000, 'the second client in once the first left');
    check(second.of('connected').length === 1, `in once the subject's connection was free (after ${second.attempts.length} attempts)`);
    second.client.close();
  }

  // ---------------------------------------------------------- a provider recovers from 4401
  {
    const handed = [];
    const w = watch({
      symbols: ['AAPL'],
      tokenProvider: async () => {
        const token = handed.length === 0 ? mintExpired('js-recover', ['AAPL']) : await mint({ sub: 'js-recover', symbols: 'AAPL' });
        handed.push(token);
        return token;
      },
    });
    await until(() => w.ticks.AAPL > 0, 5_000, 'ticks after a fresh token');
    const first = w.of('disconnected')[0];
    check(first && first.code === 4401 && first.retryInMs !== null && w.of('unauthorized').length === 0,
      `with a provider, 4401 is retried: ${first && first.reason} (retry in ${first && first.retryInMs} ms)`);
    check(handed.length === 2 && w.attempts.map((a) => new URL(a).searchParams.get('token')).join() === handed.join(),
      `each attempt asked the provider for its token (${handed.length} tokens, ${w.attempts.length} attempts)`);
    w.client.close();
  }

  // ---------------------------------------------------------- the refresh run
  await until(() => refresh.of('token_expiring').length > 0, 8_000, 'token_expiring');
  const warned = refresh.of('token_expiring')[0];
  const connectedAt = refresh.of('connected')[0].at;
  check(warned.refreshing === true && warned.inMs > 0 && warned.inMs <= 30_000 && warned.at - connectedAt < 5_000,
    `token_expiring ${((warned.at - connectedAt) / 1000).toFixed(1)} s after connecting (in_ms ${warned.inMs}, refreshing)`);
  await until(() => refresh.of('authenticated').length > 0, 5_000, 'authenticated');
  const auth = refresh.of('authenticated')[0];
  check(auth.exp === providerCalls[1].exp && auth.exp > providerCalls[0].exp && typeof auth.id === 'number',
    `refreshed with auth: authenticated exp ${auth.exp} (the first token's was ${providerCalls[0].exp})`);
  await until(() => refresh.of('unsubscribed').length > 0, 10_000, 'the narrower token');
  const narrowed = refresh.of('unsubscribed')[0];
  const nvdaAt = refresh.ticks.NVDA;
  check(narrowed.reason === 'entitlement' && narrowed.symbols.map((r) => r.symbol).join() === 'NVDA' && refresh.client.symbols.join() === 'AAPL,MSFT',
    `a narrower token ends NVDA: unsubscribed ${narrowed.symbols.map((r) => r.symbol)} (reason ${narrowed.reason}); symbols now ${refresh.client.symbols}`);
  // Past the first token's exp: the connection would have been closed there without the refreshes.
  const firstExpMs = providerCalls[0].exp * 1000;
  const waitMs = firstExpMs + 2000 - Date.now();
  console.log(`js-client-auth: waiting ${(waitMs / 1000).toFixed(1)} s, until 2 s past the first token's exp`);
  await sleep(Math.max(0, waitMs));
  const now = Date.now();
  check(refresh.ticks.NVDA === nvdaAt, `no NVDA record after its unsubscribed (${nvdaAt} before, ${refresh.ticks.NVDA} now)`);
  check(refresh.of('connected').length === 1 && refresh.of('disconnected').length === 0 && refresh.client.state === 'open',
    `one connection for ${((now - connectedAt) / 1000).toFixed(1)} s, ${((now - firstExpMs) / 1000).toFixed(1)} s past the first token's exp: `
    + `${refresh.of('connected').length} connected, ${refresh.of('disconnected').length} disconnected`);
  const auths = refresh.of('authenticated').length;
  check(auths >= 5 && refresh.of('token_expiring').length >= auths && refresh.of('error').length === 0,
    `${refresh.of('token_expiring').length} token_expiring, ${providerCalls.length} provider calls, ${auths} authenticated, no error`);
  check(refresh.of('gap').length === 0 && refresh.jumps.length === 0,
    `no gap through the refreshes (${refresh.of('gap').length} gap events, sequence jumps seen here: ${refresh.jumps.join(', ') || 'none'})`);
  check(['AAPL', 'MSFT'].every((s) => now - refresh.lastTickAt[s] < 1500),
    `AAPL and MSFT still ticking (${refresh.ticks.AAPL} and ${refresh.ticks.MSFT} records in ${((now - refreshStarted) / 1000).toFixed(0)} s)`);
  check(!providerCalls.some((c) => refresh.text().includes(c.token)), 'no token in any event of the refresh run');
} catch (e) {
  check(false, e.message);
}
refresh.client.close();

finish();
