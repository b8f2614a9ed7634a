// Every `authClient.invite.*` call of the seed, and every refusal as the client shows it.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ADMIN,
  assertRefused,
  assertRefusedBecause,
  serverForThisFile,
  USER_PASSWORD,
} from "./harness.mjs";

const INVITE_COOKIE = "better-auth.invite-token";

let admin;
const server = serverForThisFile(async (started) => {
  admin = (await started.admin()).client;
});

async function createToken(body) {
  const { data, error } = await admin.invite.create({ senderResponse: "token", ...body });
  assert.equal(error, null, JSON.stringify(error));
  return data.message;
}

test('senderResponse "url": the link activates the invite and redirects to sign-up', async () => {
  const { data, error } = await admin.invite.create({ role: "admin", senderResponse: "url" });
  assert.equal(error, null);
  assert.equal(data.status, true);
  const url = new URL(data.message);
  assert.equal(url.origin, server.baseURL);
  assert.match(url.pathname, /^\/api\/auth\/invite\/[A-Za-z0-9]{24}$/);
  assert.equal(url.searchParams.get("callbackURL"), "/auth/sign-up");

  const visitor = server.browser();
  const response = await visitor.fetch(url, { redirect: "manual" });
  assert.ok([302, 303, 307].includes(response.status), `status ${response.status}`);
  assert.equal(response.headers.get("location"), "/auth/sign-up");
  const cookie = await visitor.cookie(INVITE_COOKIE);
  assert.ok(cookie, "the link sets the invite cookie");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.path, "/");
  assert.equal(cookie.sameSite, "lax");

  const signedUp = await visitor.client.signUp.email({
    email: "linked@example.com",
    password: USER_PASSWORD,
    name: "Linked",
  });
  assert.equal(signedUp.error, null);
  assert.equal(signedUp.data.user.role, "admin", "the invite's role, not the default");
});

test('tokenType "code" gives a 6-character code that activates like a token', async () => {
  const code = await createToken({ role: "user", tokenType: "code" });
  assert.match(code, /^[A-Z0-9]{6}$/);

  const info = await admin.invite.get({ query: { token: code } });
  assert.equal(info.error, null);
  assert.equal(info.data.invitation.tokenType, "code");

  // The seed's manual activation, with its `callbackURL`.
  const visitor = server.browser();
  const activated = await visitor.client.invite.activate({
    token: code,
    callbackURL: "/welcome/sign-up",
  });
  assert.equal(activated.error, null);
  assert.equal(activated.data.action, "SIGN_IN_UP_REQUIRED");
  assert.equal(activated.data.redirectTo, "/welcome/sign-up");
  assert.equal((await visitor.cookie(INVITE_COOKIE))?.value, code);
});

test("a private invite arrives by email and upgrades an existing user at sign-in", async () => {
  const bob = await server.newUser("bob@example.com");
  assert.equal((await bob.client.signOut()).error, null);

  const created = await admin.invite.create({ role: "admin", email: "bob@example.com" });
  assert.equal(created.error, null);
  assert.equal(created.data.status, true);
  assert.equal(created.data.message, "The invitation was sent");

  const email = await server.emailTo("bob@example.com");
  assert.equal(email.role, "admin");
  assert.equal(email.newAccount, false);
  assert.equal(email.subject, "Role upgrade invitation");
  const link = new URL(email.url);
  assert.equal(link.pathname, `/api/auth/invite/${email.token}`);
  assert.equal(link.searchParams.get("callbackURL"), "/auth/sign-in");

  // Bob follows the link: the invite is activated, he is sent to sign in.
  const response = await bob.fetch(email.url, { redirect: "manual" });
  assert.equal(response.headers.get("location"), "/auth/sign-in");
  assert.ok(await bob.cookie(INVITE_COOKIE));

  const signedIn = await bob.client.signIn.email({
    email: "bob@example.com",
    password: USER_PASSWORD,
  });
  assert.equal(signedIn.error, null);
  assert.equal(signedIn.data.user.role, "admin");
  assert.equal(signedIn.data.redirect, true);
  assert.equal(signedIn.data.url, "/auth/invited");
  assert.equal(await bob.cookie(INVITE_COOKIE), undefined, "the invite cookie is cleared");

  const session = await bob.client.getSession();
  assert.equal(session.data.user.role, "admin");
});

test("invite.get tells the role, the kind of invite and the inviter", async () => {
  const token = await createToken({ role: "user", maxUses: 3 });
  const visitor = server.browser();
  const { data, error } = await visitor.client.invite.get({ query: { token } });
  assert.equal(error, null);
  assert.equal(data.status, true);
  assert.equal(data.inviter.name, ADMIN.name);
  assert.equal(data.inviter.email, ADMIN.email);
  assert.equal(data.invitation.role, "user");
  assert.equal(data.invitation.newAccount, true);
  assert.equal(data.invitation.status, "pending");
  assert.equal(data.invitation.maxUses, 3);
  assert.equal(data.invitation.uses, 0);

  const hidden = await createToken({ role: "user", shareInviterName: false });
  const anonymous = await visitor.client.invite.get({ query: { token: hidden } });
  assert.equal(anonymous.error, null);
  assert.equal(anonymous.data.inviter.name, null);

  assertRefused(
    await visitor.client.invite.get({ query: { token: "no-such-token" } }),
    400,
    "INVALID_TOKEN",
  );
});

test("invite.cancel: the creator cancels, and the invite can no longer be used", async () => {
  const token = await createToken({ role: "user" });
  const cancelled = await admin.invite.cancel({ token });
  assert.equal(cancelled.error, null);
  assert.equal(cancelled.data.status, true);

  const info = await admin.invite.get({ query: { token } });
  assert.equal(info.data.invitation.status, "cancelled");

  const visitor = server.browser();
  assertRefusedBecause(await visitor.client.invite.activate({ token }), 400, "INVALID_TOKEN", "INVITE_CANCELLED");
  assert.equal(await visitor.cookie(INVITE_COOKIE), undefined);
});

test("invite.reject: the invited user rejects a private invite", async () => {
  const carol = await server.newUser("carol@example.com");
  await admin.invite.create({ role: "admin", email: "carol@example.com" });
  const { token } = await server.emailTo("carol@example.com");

  const rejected = await carol.client.invite.reject({ token });
  assert.equal(rejected.error, null);
  assert.equal(rejected.data.status, true);

  assertRefusedBecause(await carol.client.invite.activate({ token }), 400, "INVALID_TOKEN", "INVITE_REJECTED");
  const session = await carol.client.getSession();
  assert.equal(session.data.user.role, "user", "a rejected invite changes nothing");
});

test("refused: an expired invite", async () => {
  const token = await createToken({ role: "user", expiresIn: 1 });
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const visitor = server.browser();
  assertRefusedBecause(await visitor.client.invite.activate({ token }), 400, "INVALID_OR_EXPIRED_INVITE", "INVITE_EXPIRED");
  const info = await visitor.client.invite.get({ query: { token } });
  assert.equal(info.data.invitation.status, "expired");
});

test("refused: an invite with no uses left", async () => {
  const token = await createToken({ role: "user", maxUses: 1 });
  const first = server.browser();
  await first.client.invite.activate({ token });
  const signedUp = await first.client.signUp.email({
    email: "first@example.com",
    password: USER_PASSWORD,
    name: "First",
  });
  assert.equal(signedUp.data.invite.used, true);

  const second = server.browser();
  assertRefusedBecause(await second.client.invite.activate({ token }), 400, "INVITE_TOKEN_HAS_ALREADY_BEEN_USED", "INVITE_USED_UP");
});

test("refused: another user than the invited one", async () => {
  await server.newUser("dave@example.com");
  await admin.invite.create({ role: "admin", email: "dave@example.com" });
  const { token } = await server.emailTo("dave@example.com");
  const eve = await server.newUser("eve@example.com");

  assertRefusedBecause(await eve.client.invite.activate({ token }), 400, "INVALID_EMAIL", "INVITE_EMAIL_MISMATCH");
  assertRefusedBecause(await eve.client.invite.reject({ token }), 400, "CANT_REJECT_INVITE", "NOT_INVITEE");
  assertRefusedBecause(await eve.client.invite.cancel({ token }), 400, "INSUFFICIENT_PERMISSIONS", "NOT_INVITE_CREATOR");
  const session = await eve.client.getSession();
  assert.equal(session.data.user.role, "user");
});

test("refused: creating an invite without the right to", async () => {
  const frank = await server.newUser("frank@example.com");
  assertRefused(
    await frank.client.invite.create({ role: "user", senderResponse: "token" }),
    400,
    "INSUFFICIENT_PERMISSIONS",
  );

  const visitor = server.browser();
  assertRefused(
    await visitor.client.invite.create({ role: "user", senderResponse: "token" }),
    401,
    "UNAUTHORIZED",
  );
});

test("refused: an unknown token", async () => {
  const visitor = server.browser();
  assertRefused(
    await visitor.client.invite.activate({ token: "no-such-token" }),
    400,
    "INVALID_TOKEN",
  );
});

test("invite.activate by a signed-in user uses the invite at once", async () => {
  const oscar = await server.newUser("oscar@example.com");
  const token = await createToken({ role: "admin" });

  const activated = await oscar.client.invite.activate({ token });
  assert.equal(activated.error, null);
  assert.equal(activated.data.status, true);
  assert.equal(activated.data.action, "REDIRECT_TO_AFTER_UPGRADE");
  assert.equal(activated.data.redirectTo, "/auth/invited");

  const session = await oscar.client.getSession();
  assert.equal(session.data.user.role, "admin");
});

test("refused: malformed calls, with Better Auth's codes or a clear 405", async () => {
  assertRefused(await admin.invite.create({ senderResponse: "token" }), 400, "VALIDATION_ERROR");
  assertRefused(
    await admin.invite.create({ role: "user", maxUses: "three" }),
    400,
    "VALIDATION_ERROR",
  );
  const token = await createToken({ role: "user" });
  assertRefused(
    await server.browser().client.invite.activate({ token, callbackURL: "https://evil.example/" }),
    403,
    "INVALID_CALLBACK_URL",
  );
  // Without a body the client sends a GET, which cancel does not take.
  assertRefused(await admin.invite.cancel(), 405, "METHOD_NOT_ALLOWED");
});

test("invite.createMany creates private invites in one call and reports every row", async () => {
  const { data, error } = await admin.invite.createMany({
    invites: [
      { email: "many1@example.com", role: "user", name: "Many One" },
      { email: "not-an-email", role: "user" },
      { email: "many2@example.com", role: "admin" },
    ],
    expiresIn: 86400,
  });
  assert.equal(error, null, JSON.stringify(error));
  assert.equal(data.status, true);
  assert.equal(data.created, 2);
  assert.equal(data.refused, 1);
  assert.deepEqual(
    data.invites.map((row) => [row.row, row.email, row.created]),
    [
      [1, "many1@example.com", true],
      [2, "not-an-email", false],
      [3, "many2@example.com", true],
    ],
  );
  assert.match(data.invites[0].inviteId, /^[0-9a-f-]{36}$/);
  const single = await admin.invite.create({ role: "user", email: "not-an-email" });
  assert.equal(single.error.status, 400);
  assert.deepEqual(data.invites[1].error, { code: single.error.code, message: single.error.message });

  const email = await server.emailTo("many2@example.com");
  assert.equal(email.role, "admin");
  const info = await admin.invite.get({ query: { token: email.token } });
  assert.equal(info.error, null);
  assert.equal(info.data.invitation.id, data.invites[2].inviteId);
});
