// better-invite's email-OTP path: a held invite is used when a one-time code signs the
// user in; a code that signs a new user up takes a seat like any sign-up.
import assert from "node:assert/strict";
import { test } from "node:test";

import { INVITE_COOKIE, withStack } from "./harness.mjs";

async function signInWithCode(auth, browser, email) {
  const sent = await browser.client.emailOtp.sendVerificationOtp({ email, type: "sign-in" });
  assert.equal(sent.error, null, JSON.stringify(sent.error));
  const otp = await auth.lastOtpTo(email);
  assert.ok(otp, "a code was sent");
  return browser.client.signIn.emailOtp({ email, otp });
}

test("email OTP: an existing user signing in with a code is upgraded; a new one signing up takes a seat", () =>
  withStack({ emailOtp: true }, async ({ auth, ledger }) => {
    const admin = await auth.admin();
    const token = (await admin.client.invite.create({ role: "admin", senderResponse: "token", maxUses: 2 })).data.message;

    const bob = auth.browser();
    assert.equal((await bob.signUp("bob@example.com")).error, null);
    await bob.client.signOut();
    assert.equal((await bob.client.invite.activate({ token })).error, null);
    await signInWithCode(auth, bob, "bob@example.com");
    assert.equal(await bob.cookie(INVITE_COOKIE), undefined, "the invite is used");
    assert.equal((await auth.userRow("bob@example.com")).role, "admin");
    assert.equal((await bob.client.getSession()).data.user.role, "admin");

    const newcomer = auth.browser();
    assert.equal((await newcomer.client.invite.activate({ token })).error, null);
    await signInWithCode(auth, newcomer, "newcomer@example.com");
    assert.equal((await auth.userRow("newcomer@example.com")).role, "admin", "written with the invite's role");
    assert.equal((await newcomer.client.getSession()).data.user.role, "admin");

    const uses = (await ledger.uses()).map((use) => [use.userEmail, use.newAccount]).sort();
    assert.deepEqual(uses, [["bob@example.com", false], ["newcomer@example.com", true]]);
  }));
