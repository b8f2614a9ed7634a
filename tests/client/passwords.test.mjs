// Better Auth's password and session methods through the real client: a reset
// link by email (read from MAIL_DIR), the reset, a change, and the sessions.
import assert from "node:assert/strict";
import { test } from "node:test";

import { assertRefused, serverForThisFile, USER_PASSWORD } from "./harness.mjs";

const server = serverForThisFile();

test("requestPasswordReset and resetPassword: a single-use link that ends every session", async () => {
  const laptop = await server.newUser("rosa@example.com");
  const phone = server.browser();
  await phone.client.signIn.email({ email: "rosa@example.com", password: USER_PASSWORD });

  const visitor = server.browser();
  const requested = await visitor.client.requestPasswordReset({
    email: "rosa@example.com",
    redirectTo: "/reset",
  });
  assert.equal(requested.error, null);
  assert.equal(requested.data.status, true);
  const unknown = await visitor.client.requestPasswordReset({ email: "nobody@example.com" });
  assert.deepEqual(unknown.data, requested.data, "the same answer for an unknown address");

  const { token, url } = await server.emailTo("rosa@example.com");
  assert.ok(url.includes(`/api/auth/reset-password/${token}?callbackURL=%2Freset`), url);
  const reset = await visitor.client.resetPassword({ newPassword: "brand-new-pass", token });
  assert.equal(reset.error, null);
  assert.equal(reset.data.status, true);
  assertRefused(
    await visitor.client.resetPassword({ newPassword: "another-pass", token }),
    400,
    "INVALID_TOKEN",
  );

  assert.equal((await laptop.client.getSession()).data, null);
  assert.equal((await phone.client.getSession()).data, null);
  const old = await server.browser().client.signIn.email({
    email: "rosa@example.com",
    password: USER_PASSWORD,
  });
  assert.equal(old.error.code, "INVALID_EMAIL_OR_PASSWORD");
  const fresh = await server.browser().client.signIn.email({
    email: "rosa@example.com",
    password: "brand-new-pass",
  });
  assert.equal(fresh.error, null);
});

test("changePassword with revokeOtherSessions, and the session methods", async () => {
  const laptop = await server.newUser("saul@example.com");
  const phone = server.browser();
  await phone.client.signIn.email({ email: "saul@example.com", password: USER_PASSWORD });
  const tablet = server.browser();
  await tablet.client.signIn.email({ email: "saul@example.com", password: USER_PASSWORD });

  const listed = await laptop.client.listSessions();
  assert.equal(listed.error, null);
  assert.equal(listed.data.length, 3);
  const mine = (await laptop.client.getSession()).data.session.id;
  const tablets = listed.data.find((s) => s.id !== mine);
  assert.equal((await laptop.client.revokeSession({ token: tablets.token })).data.status, true);
  assert.equal((await laptop.client.listSessions()).data.length, 2);

  assertRefused(
    await laptop.client.changePassword({ currentPassword: "wrong", newPassword: "next-pass-1" }),
    400,
    "INVALID_PASSWORD",
  );
  const changed = await laptop.client.changePassword({
    currentPassword: USER_PASSWORD,
    newPassword: "next-pass-1",
    revokeOtherSessions: true,
  });
  assert.equal(changed.error, null);
  assert.equal(changed.data.user.email, "saul@example.com");
  assert.equal((await phone.client.getSession()).data, null);
  assert.ok((await laptop.client.getSession()).data, "this session goes on");

  await phone.client.signIn.email({ email: "saul@example.com", password: "next-pass-1" });
  assert.equal((await laptop.client.revokeOtherSessions()).data.status, true);
  assert.equal((await phone.client.getSession()).data, null);
  assert.equal((await laptop.client.revokeSessions()).data.status, true);
  assert.equal((await laptop.client.getSession()).data, null);
});

test("updateUser changes the name and the image", async () => {
  const browser = await server.newUser("tilda@example.com");
  const updated = await browser.client.updateUser({
    name: "Tilda Swift",
    image: "https://img.example/tilda.png",
  });
  assert.equal(updated.error, null);
  assert.equal(updated.data.status, true);
  const { data } = await browser.client.getSession();
  assert.equal(data.user.name, "Tilda Swift");
  assert.equal(data.user.image, "https://img.example/tilda.png");
});

test("deleteUser: the password (or a fresh session) proves it, and the person is erased", async () => {
  const browser = await server.newUser("dora@example.com");
  const other = server.browser();
  await other.client.signIn.email({ email: "dora@example.com", password: USER_PASSWORD });
  assertRefused(await browser.client.deleteUser({ password: "wrong" }), 400, "INVALID_PASSWORD");
  const deleted = await browser.client.deleteUser({ password: USER_PASSWORD });
  assert.equal(deleted.error, null);
  assert.deepEqual(deleted.data, { success: true, message: "User deleted" });
  assert.equal((await browser.client.getSession()).data, null);
  assert.equal((await other.client.getSession()).data, null, "signed out everywhere");
  assertRefused(
    await server.browser().client.signIn.email({ email: "dora@example.com", password: USER_PASSWORD }),
    401,
    "INVALID_EMAIL_OR_PASSWORD",
  );

  // A session just opened needs no password; the address may sign up again, as someone new.
  const again = await server.newUser("dora@example.com");
  assert.equal((await again.client.deleteUser({})).error, null);
  assert.equal((await again.client.getSession()).data, null);
});
