// Dates reach the real client unchanged: the server writes them as JavaScript's
// toISOString() does, and the client's date parser turns each into the same instant.
import assert from "node:assert/strict";
import { test } from "node:test";

import { serverForThisFile } from "./harness.mjs";

const server = serverForThisFile();

/** The answer's JSON as the server sent it, strings not turned into dates. */
async function rawJSON(browser, path) {
  const response = await browser.fetch(`${server.baseURL}/api/auth${path}`);
  assert.equal(response.status, 200, path);
  return JSON.parse(await response.text());
}

/** The client's Date is the server's time, to the millisecond, written the same way. */
function assertSameDate(parsed, raw, what) {
  assert.match(raw, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, `${what} as sent: ${raw}`);
  assert.ok(parsed instanceof Date, `${what}: the client parsed ${parsed} into a Date`);
  assert.equal(parsed.toISOString(), raw, `${what}: the client's date moved`);
}

test("session, user and invite dates round-trip through the client unchanged", async () => {
  const { client: admin } = await server.admin();
  const created = await admin.invite.create({ role: "user", senderResponse: "token" });
  assert.equal(created.error, null);
  const token = created.data.message;

  const visitor = server.browser();
  assert.equal((await visitor.client.invite.activate({ token })).error, null);
  const signedUp = await visitor.client.signUp.email({
    email: "dates@example.com",
    password: "dates-password",
    name: "Dates",
  });
  assert.equal(signedUp.error, null);

  const session = await visitor.client.getSession();
  assert.equal(session.error, null);
  const rawSession = await rawJSON(visitor, "/get-session");
  for (const field of ["expiresAt", "createdAt", "updatedAt"]) {
    assertSameDate(session.data.session[field], rawSession.session[field], `session.${field}`);
  }
  for (const field of ["createdAt", "updatedAt"]) {
    assertSameDate(session.data.user[field], rawSession.user[field], `user.${field}`);
    assertSameDate(signedUp.data.user[field], rawSession.user[field], `sign-up user.${field}`);
  }

  const info = await visitor.client.invite.get({ query: { token } });
  assert.equal(info.error, null);
  const rawInfo = await rawJSON(visitor, `/invite/get?token=${token}`);
  for (const field of ["createdAt", "expiresAt"]) {
    assertSameDate(info.data.invitation[field], rawInfo.invitation[field], `invitation.${field}`);
  }
});
