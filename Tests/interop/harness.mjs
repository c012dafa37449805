// Shared by the Node tests of the JavaScript client (js_client_test.mjs,
// js_client_auth_test.mjs): one "ok"/"FAIL" line per check, a failure
// count for the exit status, and polling with a deadline.

/** Checks printed as `PREFIX: ok  what` / `PREFIX: FAIL what`; `failures` counts the FAILs. */
export function checker(prefix) {
  const c = {
    failures: 0,
    check(ok, what) {
      console.log(`${prefix}: ${ok ? 'ok  ' : 'FAIL'} ${what}`);
      if (!ok) c.failures++;
      return ok;
    },
    /** `fn` must throw (an instance of `type`, when given) with a message matching `pattern`. */
    throwsLike(fn, pattern, what, type = null) {
      try { fn(); } catch (e) { return c.check((!type || e instanceof type) && pattern.test(e.message), `${what}: "${e.message}"`); }
      return c.check(false, `${what}: did not throw`);
    },
    /** The summary line and the exit status. */
    finish() {
      console.log(`${prefix}: ${c.failures === 0 ? 'all checks passed' : c.failures + ' check(s) failed'}`);
      process.exitCode = c.failures ? 1 : 0;
    },
  };
  return c;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves with pred()'s value once truthy; rejects after timeoutMs. */
export async function until(pred, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
