// The plugin's endpoint for the ledger's signed calls: a forged, stale or replayed
// role repair changes nothing; a genuine, newer one is applied.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";

import { withStack } from "./harness.mjs";

/** Asks the ledger for the signing secret, as the plugin's handshake does. */
async function signingSecret(ledger, callbackUrl) {
  const response = await fetch(`${ledger.url}/api/companion/hello`, {
    method: "POST",
    headers: { authorization: `Bearer ${ledger.companionKey}`, "content-type": "application/json" },
    body: JSON.stringify({ callbackUrl }),
  });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  return body.signingSecret;
}

const sign = (secret, body, t = Math.floor(Date.now() / 1000)) =>
  `t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}`;

async function post(url, body, signature) {
  const headers = { "content-type": "application/json" };
  if (signature) headers["x-invite-ledger-signature"] = signature;
  const response = await fetch(url, { method: "POST", headers, body });
  return { status: response.status, body: await response.json().catch(() => null) };
}

test("role repairs: forged, stale and replayed calls are refused or change nothing", () =>
  withStack({}, async ({ auth, ledger }) => {
    const callbackUrl = `${auth.baseURL}/api/auth/invite/ledger-sync`;
    const eve = auth.browser();
    await eve.signUp("eve@example.com");
    const { id } = await auth.userRow("eve@example.com");
    const secret = await signingSecret(ledger, callbackUrl);
    const decision = (role, position) =>
      JSON.stringify({ type: "role.decided", userId: id, role, position, sentAt: new Date().toISOString() });

    // Unsigned, and signed with another secret.
    const unsigned = await post(callbackUrl, decision("admin", "900000/900000"));
    assert.equal(unsigned.status, 401, JSON.stringify(unsigned));
    const forged = await post(callbackUrl, decision("admin", "900000/900000"), sign("not-the-secret", decision("admin", "900000/900000")));
    assert.equal(forged.status, 401);
    // A body changed after signing.
    const signed = sign(secret, decision("user", "900000/900000"));
    const tampered = await post(callbackUrl, decision("admin", "900000/900000"), signed);
    assert.equal(tampered.status, 401);
    // Genuine but ten minutes old.
    const old = decision("admin", "900000/900000");
    const stale = await post(callbackUrl, old, sign(secret, old, Math.floor(Date.now() / 1000) - 600));
    assert.equal(stale.status, 401);
    assert.equal((await auth.userRow("eve@example.com")).role, "user", "none of them changed the role");

    // A genuine, fresh decision is applied.
    const genuine = decision("admin", "900000/900001");
    const genuineSignature = sign(secret, genuine);
    const applied = await post(callbackUrl, genuine, genuineSignature);
    assert.deepEqual(applied, { status: 200, body: { applied: true, exists: true } });
    assert.equal((await auth.userRow("eve@example.com")).role, "admin");

    // A newer decision, then the older one replayed (same body, same signature): no change.
    const newer = decision("user", "900000/900002");
    assert.equal((await post(callbackUrl, newer, sign(secret, newer))).body.applied, true);
    const replayed = await post(callbackUrl, genuine, genuineSignature);
    assert.equal(replayed.status, 200);
    assert.equal(replayed.body.applied, false);
    assert.equal((await auth.userRow("eve@example.com")).role, "user", "a replayed older decision changes nothing");

    // The ledger's other question: does a user exist?
    const exists = JSON.stringify({ type: "user.exists", userId: id });
    assert.deepEqual((await post(callbackUrl, exists, sign(secret, exists))).body, { exists: true });
    const ghost = JSON.stringify({ type: "user.exists", userId: "no-such-user" });
    assert.deepEqual((await post(callbackUrl, ghost, sign(secret, ghost))).body, { exists: false });
  }));
