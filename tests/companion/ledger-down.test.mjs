// Every call to the ledger has a timeout: when the ledger answers nothing, invite
// routes answer 503 LEDGER_UNAVAILABLE within it and decide nothing, and a sign-up
// holding an invite is refused before Better Auth writes the user.
import assert from "node:assert/strict";
import { test } from "node:test";

import { withStack } from "./harness.mjs";

test("a frozen ledger: 503 within the timeout, no user written; the same sign-up works once it is back", () =>
  withStack({ ledgerTimeoutMs: 500 }, async ({ auth, ledger }) => {
    const admin = await auth.admin();
    const token = (await admin.client.invite.create({ role: "admin", senderResponse: "token" })).data.message;
    const visitor = auth.browser();
    assert.equal((await visitor.client.invite.activate({ token })).error, null);

    ledger.pause();
    try {
      let started = Date.now();
      const created = await admin.client.invite.create({ role: "user", senderResponse: "token" });
      assert.equal(created.error?.status, 503, JSON.stringify(created));
      assert.equal(created.error.code, "LEDGER_UNAVAILABLE");
      // One try and one retry of 500 ms each, with a pause between.
      assert.ok(Date.now() - started < 3000, `answered after ${Date.now() - started} ms`);

      started = Date.now();
      const signedUp = await visitor.signUp("patient@example.com");
      assert.equal(signedUp.error?.status, 503, JSON.stringify(signedUp));
      assert.ok(Date.now() - started < 3000, `answered after ${Date.now() - started} ms`);
      assert.equal(await auth.userRow("patient@example.com"), undefined, "no user row without the ledger's seat");
    } finally {
      ledger.resume();
    }

    const again = await visitor.signUp("patient@example.com");
    assert.equal(again.error, null, JSON.stringify(again.error));
    assert.equal((await auth.userRow("patient@example.com")).role, "admin");
  }));
