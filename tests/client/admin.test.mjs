// The admin plugin's user management through the real client: a banned user's
// sign-in is refused with Better Auth's code and their sessions end.
import assert from "node:assert/strict";
import { test } from "node:test";

import { assertRefused, serverForThisFile, USER_PASSWORD } from "./harness.mjs";

const server = serverForThisFile();

test("admin.banUser, unbanUser, revokeUserSessions and removeUser", async () => {
  const admin = (await server.admin()).client;
  const ivan = await server.newUser("ivan@example.com");
  const ivanId = (await ivan.client.getSession()).data.user.id;

  const banned = await admin.admin.banUser({ userId: ivanId, banReason: "spam" });
  assert.equal(banned.error, null);
  assert.equal(banned.data.user.banned, true);
  assert.equal(banned.data.user.banReason, "spam");
  assert.equal((await ivan.client.getSession()).data, null, "the ban ends the session");
  assertRefused(
    await server.browser().client.signIn.email({ email: "ivan@example.com", password: USER_PASSWORD }),
    403,
    "BANNED_USER",
  );

  const unbanned = await admin.admin.unbanUser({ userId: ivanId });
  assert.equal(unbanned.data.user.banned, false);
  const back = server.browser();
  assert.equal(
    (await back.client.signIn.email({ email: "ivan@example.com", password: USER_PASSWORD })).error,
    null,
  );
  assert.equal((await admin.admin.revokeUserSessions({ userId: ivanId })).data.success, true);
  assert.equal((await back.client.getSession()).data, null);

  assert.equal((await admin.admin.removeUser({ userId: ivanId })).data.success, true);
  const gone = await server.browser().client.signIn.email({
    email: "ivan@example.com",
    password: USER_PASSWORD,
  });
  assert.equal(gone.error.code, "INVALID_EMAIL_OR_PASSWORD");
});
