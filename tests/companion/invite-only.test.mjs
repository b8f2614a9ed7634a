// Invite-only for real: a sign-up without a valid invite is refused inside Better
// Auth's sign-up transaction, so it leaves no user row; concurrent sign-ups never
// take more seats than the invite has.
import assert from "node:assert/strict";
import { test } from "node:test";

import { eventually, withStack } from "./harness.mjs";

const INVITE_ONLY = { ledgerEnv: { INVITE_ONLY: "true" } };

test("invite-only: a sign-up without an invite is refused and writes no user", () =>
  withStack(INVITE_ONLY, async ({ auth }) => {
    const before = await auth.userCount();
    const visitor = auth.browser();
    const refused = await visitor.signUp("walkin@example.com");
    assert.equal(refused.data, null);
    assert.equal(refused.error.status, 403, JSON.stringify(refused));
    assert.equal(refused.error.code, "INVITE_REQUIRED");
    assert.equal(await auth.userRow("walkin@example.com"), undefined);
    assert.equal(await auth.userCount(), before);
  }));

test("50 concurrent invite-only sign-ups on maxUses 5: exactly 5 users, 5 uses, 45 refused with no row", () =>
  withStack(INVITE_ONLY, async ({ auth, ledger }) => {
    const admin = await auth.admin();
    const created = await admin.client.invite.create({ role: "admin", senderResponse: "token", maxUses: 5 });
    assert.equal(created.error, null, JSON.stringify(created.error));
    const token = created.data.message;

    const visitors = Array.from({ length: 50 }, () => auth.browser());
    for (const visitor of visitors) {
      const activated = await visitor.client.invite.activate({ token });
      assert.equal(activated.error, null, JSON.stringify(activated.error));
    }
    const results = await Promise.all(visitors.map((visitor, i) => visitor.signUp(`racer${i}@example.com`)));

    const succeeded = results.filter((result) => result.error === null);
    const refused = results.filter((result) => result.error !== null);
    assert.equal(succeeded.length, 5, JSON.stringify(refused.slice(0, 3).map((r) => r.error)));
    for (const result of refused) {
      assert.equal(result.error.status, 400, JSON.stringify(result.error));
      assert.equal(result.error.code, "NO_USES_LEFT_FOR_INVITE");
    }

    const rows = (await auth.db.query(`SELECT id, email, role FROM "user" WHERE email LIKE 'racer%'`)).rows;
    assert.equal(rows.length, 5, "only the five who got a seat have a user row");
    assert.ok(rows.every((row) => row.role === "admin"), JSON.stringify(rows));

    const uses = await eventually(async () => {
      const found = await ledger.uses();
      return found.length >= 5 && found;
    }, 15000, "five uses in the ledger");
    assert.equal(uses.length, 5);
    assert.deepEqual(uses.map((u) => u.userId).sort(), rows.map((row) => row.id).sort());
  }));

test("invite-only: a user made by an admin is not a sign-up and is not refused", () =>
  withStack(INVITE_ONLY, async ({ auth }) => {
    const admin = await auth.admin();
    const made = await admin.client.admin.createUser({
      email: "staff@example.com",
      password: "staff-password",
      name: "Staff",
      role: "user",
    });
    assert.equal(made.error, null, JSON.stringify(made.error));
    assert.equal((await auth.userRow("staff@example.com")).role, "user");
  }));
