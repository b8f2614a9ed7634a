// Better Auth's email verification and change of email through the real client,
// against a server that requires a verified address (REQUIRE_EMAIL_VERIFICATION):
// the links are read from the emails in MAIL_DIR.
import assert from "node:assert/strict";
import { test } from "node:test";

import { assertRefused, serverForThisFile, USER_PASSWORD } from "./harness.mjs";

const VERIFY = "Verify your email address";

let admin;
const server = serverForThisFile(
  async (started) => {
    admin = (await started.admin()).client;
  },
  { REQUIRE_EMAIL_VERIFICATION: "true" },
);

test("a sign-up waits for its emailed link: EMAIL_NOT_VERIFIED until verifyEmail", async () => {
  const browser = server.browser();
  const signedUp = await browser.client.signUp.email({
    email: "vera@example.com",
    password: USER_PASSWORD,
    name: "Vera",
    callbackURL: "/welcome",
  });
  assert.equal(signedUp.error, null);
  assert.equal(signedUp.data.token, null, "no session before the address is verified");
  assert.equal(signedUp.data.user.emailVerified, false);
  assert.equal((await browser.client.getSession()).data, null);
  assertRefused(
    await browser.client.signIn.email({ email: "vera@example.com", password: USER_PASSWORD }),
    403,
    "EMAIL_NOT_VERIFIED",
  );

  // Signed out: the same answer for an unknown address, and a new link for Vera.
  const unknown = await browser.client.sendVerificationEmail({ email: "nobody@example.com" });
  assert.deepEqual(unknown.data, { status: true });
  const first = await server.emailTo("vera@example.com", VERIFY);
  const again = await browser.client.sendVerificationEmail({ email: "vera@example.com" });
  assert.deepEqual(again.data, { status: true });
  let second = first;
  for (let i = 0; i < 100 && second.token === first.token; i++) {
    second = await server.emailTo("vera@example.com", VERIFY);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.notEqual(second.token, first.token, "a second link was emailed");
  assert.ok(
    first.url.startsWith(
      `${server.baseURL}/api/auth/verify-email?token=${first.token}&callbackURL=%2Fwelcome`,
    ),
    first.url,
  );

  assertRefused(await browser.client.verifyEmail({ query: { token: "not-a-token" } }), 401, "INVALID_TOKEN");
  // The emailed link: verifies, then goes to its callbackURL.
  const followed = await browser.fetch(first.url, { redirect: "manual" });
  assert.equal(followed.status, 302);
  assert.equal(followed.headers.get("location"), "/welcome");
  // Used once: the link again goes back with Better Auth's error.
  const twice = await browser.fetch(first.url, { redirect: "manual" });
  assert.equal(twice.headers.get("location"), "/welcome?error=INVALID_TOKEN");
  // A second link of an address verified since: nothing more to do.
  const late = await browser.client.verifyEmail({ query: { token: second.token } });
  assert.deepEqual(late.data, { status: true, user: null });

  const signedIn = await browser.client.signIn.email({ email: "vera@example.com", password: USER_PASSWORD });
  assert.equal(signedIn.error, null);
  assert.equal(signedIn.data.user.emailVerified, true);
  assertRefused(
    await browser.client.sendVerificationEmail({ email: "vera@example.com" }),
    400,
    "EMAIL_ALREADY_VERIFIED",
  );
  assertRefused(
    await browser.client.sendVerificationEmail({ email: "other@example.com" }),
    400,
    "EMAIL_MISMATCH",
  );
});

test("a private invite waits for a verified address, then is used at sign-in", async () => {
  const created = await admin.invite.create({ role: "admin", email: "pia@example.com" });
  assert.equal(created.error, null);
  const invitation = await server.emailTo("pia@example.com");
  const visitor = server.browser();
  await visitor.fetch(invitation.url, { redirect: "manual" });

  const signedUp = await visitor.client.signUp.email({
    email: "pia@example.com",
    password: USER_PASSWORD,
    name: "Pia",
  });
  assert.equal(signedUp.error, null);
  assert.equal(signedUp.data.token, null);
  assert.equal(signedUp.data.invite.used, false);
  assert.equal(signedUp.data.invite.code, "EMAIL_NOT_VERIFIED");
  assert.equal(signedUp.data.user.role, "user");

  const { token } = await server.emailTo("pia@example.com", VERIFY);
  assert.equal((await visitor.client.verifyEmail({ query: { token } })).error, null);
  const signedIn = await visitor.client.signIn.email({ email: "pia@example.com", password: USER_PASSWORD });
  assert.equal(signedIn.error, null);
  assert.equal(signedIn.data.invite.used, true, JSON.stringify(signedIn.data.invite));
  assert.equal(signedIn.data.user.role, "admin");
});

test("changeEmail: a link to the new address, which the account moves to once it is opened", async () => {
  const browser = server.browser();
  await browser.client.signUp.email({ email: "carl@example.com", password: USER_PASSWORD, name: "Carl" });
  const { token } = await server.emailTo("carl@example.com", VERIFY);
  await browser.client.verifyEmail({ query: { token } });
  await browser.client.signIn.email({ email: "carl@example.com", password: USER_PASSWORD });

  assertRefused(await browser.client.changeEmail({ newEmail: "carl@example.com" }), 400, "EMAIL_IS_THE_SAME");
  const asked = await browser.client.changeEmail({ newEmail: "Carl.New@example.com", callbackURL: "/settings" });
  assert.deepEqual(asked.data, { status: true });
  assert.equal((await browser.client.getSession()).data.user.email, "carl@example.com", "not before the link");

  const link = await server.emailTo("carl.new@example.com", VERIFY);
  const changed = await browser.client.verifyEmail({ query: { token: link.token } });
  assert.equal(changed.error, null);
  assert.equal(changed.data.user.email, "carl.new@example.com");
  assert.equal(changed.data.user.emailVerified, true);
  assert.equal((await browser.client.getSession()).data.user.email, "carl.new@example.com");

  const again = server.browser();
  assert.equal(
    (await again.client.signIn.email({ email: "carl.new@example.com", password: USER_PASSWORD })).error,
    null,
  );
  // The old address is free for someone new.
  const newcomer = await server.browser().client.signUp.email({
    email: "carl@example.com",
    password: USER_PASSWORD,
    name: "Another Carl",
  });
  assert.equal(newcomer.error, null);
  assert.notEqual(newcomer.data.user.id, changed.data.user.id);
  // An address someone has: the same answer, and no email.
  const taken = await browser.client.changeEmail({ newEmail: "vera@example.com" });
  assert.deepEqual(taken.data, { status: true });
});
