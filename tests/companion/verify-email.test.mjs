// better-invite's verify-email path: an invite held when the user follows their
// verification link (which signs them in) is used then.
import assert from "node:assert/strict";
import { test } from "node:test";

import { INVITE_COOKIE, withStack } from "./harness.mjs";

test("verify-email: following the verification link with an invite held upgrades the role", () =>
  withStack({ verifyEmail: true }, async ({ auth, ledger }) => {
    const bob = auth.browser();
    assert.equal((await bob.signUp("bob@example.com")).error, null);
    await bob.client.signOut();
    const link = await auth.lastVerificationLinkTo("bob@example.com");
    assert.ok(link, "a verification link was sent");

    const admin = await auth.admin();
    const token = (await admin.client.invite.create({ role: "admin", senderResponse: "token" })).data.message;
    assert.equal((await bob.client.invite.activate({ token })).error, null);

    const followed = await bob.fetch(link, { redirect: "manual" });
    assert.ok([200, 302].includes(followed.status), `status ${followed.status}`);
    assert.equal(await bob.cookie(INVITE_COOKIE), undefined, "the invite is used");
    const row = await auth.userRow("bob@example.com");
    assert.equal(row.emailVerified, true);
    assert.equal(row.role, "admin");
    assert.equal((await bob.client.getSession()).data.user.role, "admin");
    const uses = (await ledger.uses()).filter((use) => use.userEmail === "bob@example.com");
    assert.equal(uses.length, 1);
  }));
