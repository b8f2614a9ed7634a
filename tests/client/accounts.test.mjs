// Accounts as the Better Auth client sees them: sessions that keep working, sign-out,
// refusals, and the admin plugin's role setting.
import assert from "node:assert/strict";
import { test } from "node:test";

import { createAuthClient } from "better-auth/client";

import { assertRefused, serverForThisFile, USER_PASSWORD } from "./harness.mjs";

const SESSION_COOKIE = "better-auth.session_token";

const server = serverForThisFile();

test("the session cookie is Better Auth's and keeps working across requests", async () => {
  const browser = server.browser();
  const signedUp = await browser.client.signUp.email({
    email: "grace@example.com",
    password: USER_PASSWORD,
    name: "Grace",
  });
  assert.equal(signedUp.error, null);
  assert.equal(signedUp.data.user.role, "user");
  assert.equal(signedUp.data.user.emailVerified, false);

  const cookie = await browser.cookie(SESSION_COOKIE);
  assert.ok(cookie, "sign-up sets the session cookie");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, "lax");
  assert.equal(cookie.path, "/");
  assert.equal(cookie.maxAge, 7 * 24 * 3600);

  // What Better Auth with its admin plugin answers for a session.
  const { data: shown } = await browser.client.getSession();
  for (const key of ["id", "token", "userId", "expiresAt", "createdAt", "updatedAt",
    "ipAddress", "userAgent", "impersonatedBy"]) {
    assert.ok(key in shown.session, `session.${key}`);
  }
  for (const key of ["id", "email", "name", "image", "emailVerified", "role", "banned",
    "banReason", "banExpires", "createdAt", "updatedAt"]) {
    assert.ok(key in shown.user, `user.${key}`);
  }

  const ids = new Set();
  for (let request = 0; request < 3; request++) {
    const { data, error } = await browser.client.getSession();
    assert.equal(error, null);
    assert.equal(data.user.email, "grace@example.com");
    assert.equal(data.session.userId, data.user.id);
    assert.ok(new Date(data.session.expiresAt) > new Date());
    ids.add(data.session.id);
  }
  assert.equal(ids.size, 1, "one session across requests");

  // Another client on the same cookie jar (a page reload) is signed in too.
  const reloaded = server.browserWithJar(browser.jar);
  const again = await reloaded.client.getSession();
  assert.equal(again.data.user.email, "grace@example.com");
});

test("sign-in answers Better Auth's shape, with callbackURL as the redirect", async () => {
  await server.newUser("heidi@example.com");
  const browser = server.browser();
  const plain = await browser.client.signIn.email({
    email: "heidi@example.com",
    password: USER_PASSWORD,
  });
  assert.equal(plain.error, null);
  assert.equal(plain.data.redirect, false);
  assert.equal(plain.data.url, undefined);
  assert.equal(typeof plain.data.token, "string");
  assert.equal(plain.data.user.email, "heidi@example.com");

  const redirected = await browser.client.signIn.email({
    email: "HEIDI@example.com",
    password: USER_PASSWORD,
    callbackURL: "/dashboard",
  });
  assert.equal(redirected.error, null);
  assert.equal(redirected.data.redirect, true);
  assert.equal(redirected.data.url, "/dashboard");

  assertRefused(
    await browser.client.signIn.email({
      email: "heidi@example.com",
      password: USER_PASSWORD,
      callbackURL: "https://evil.example/",
    }),
    403,
    "INVALID_CALLBACK_URL",
  );
});

test("refusals of sign-in and sign-up carry Better Auth's codes", async () => {
  await server.newUser("ivan@example.com");
  const browser = server.browser();
  assertRefused(
    await browser.client.signIn.email({ email: "ivan@example.com", password: "wrong-password" }),
    401,
    "INVALID_EMAIL_OR_PASSWORD",
  );
  assertRefused(
    await browser.client.signIn.email({ email: "nobody@example.com", password: USER_PASSWORD }),
    401,
    "INVALID_EMAIL_OR_PASSWORD",
  );
  assertRefused(
    await browser.client.signUp.email({
      email: "ivan@example.com",
      password: USER_PASSWORD,
      name: "Ivan again",
    }),
    422,
    "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
  );
  assertRefused(
    await browser.client.signUp.email({ email: "judy@example.com", password: "123", name: "J" }),
    400,
    "PASSWORD_TOO_SHORT",
  );
  assertRefused(
    await browser.client.signUp.email({ email: "not-an-email", password: USER_PASSWORD, name: "N" }),
    400,
    "INVALID_EMAIL",
  );
  assertRefused(
    await browser.client.signUp.email({ email: "kim@example.com" }),
    400,
    "VALIDATION_ERROR",
  );
  const { data, error } = await browser.client.getSession();
  assert.equal(error, null);
  assert.equal(data, null, "no session after refusals");
});

test("signOut ends the session: the cookie is cleared and the token no longer works", async () => {
  const browser = await server.newUser("mallory@example.com");
  const token = (await browser.cookie(SESSION_COOKIE)).value;

  const signedOut = await browser.client.signOut();
  assert.equal(signedOut.error, null);
  assert.deepEqual(signedOut.data, { success: true });
  assert.equal(await browser.cookie(SESSION_COOKIE), undefined);

  const session = await browser.client.getSession();
  assert.equal(session.error, null);
  assert.equal(session.data, null);

  // The old token, replayed from another jar, is dead too.
  const replay = server.browser();
  await replay.jar.setCookie(`${SESSION_COOKIE}=${token}; Path=/`, server.baseURL);
  assert.equal((await replay.client.getSession()).data, null);
  assertRefused(
    await replay.client.invite.create({ role: "user", senderResponse: "token" }),
    401,
    "UNAUTHORIZED",
  );
});

test("a client without cookies signs requests with the bearer token", async () => {
  const browser = await server.newUser("peggy@example.com");
  const token = (await browser.cookie(SESSION_COOKIE)).value;

  const cookieless = createAuthClient({
    baseURL: server.baseURL,
    fetchOptions: { auth: { type: "Bearer", token: () => token } },
  });
  const { data, error } = await cookieless.getSession();
  assert.equal(error, null);
  assert.equal(data.user.email, "peggy@example.com");
});

test("the useSession store shows the signed-in user, then nobody after signOut", async () => {
  const browser = await server.newUser("trent@example.com");
  const { useSession } = browser.client;
  const seen = (predicate) =>
    new Promise((resolve) => {
      const unsubscribe = useSession.subscribe((state) => {
        if (!state.isPending && predicate(state.data)) {
          queueMicrotask(() => unsubscribe());
          resolve(state.data);
        }
      });
    });

  const shown = await seen((data) => data !== null);
  assert.equal(shown.user.email, "trent@example.com");
  assert.equal(shown.user.role, "user");

  const gone = seen((data) => data === null);
  await browser.client.signOut();
  assert.equal(await gone, null);
});

test("admin.setRole (the admin client plugin) sets a role; others may not", async () => {
  const victor = await server.newUser("victor@example.com");
  const { data: me } = await victor.client.getSession();
  const { client: admin } = await server.admin();

  const set = await admin.admin.setRole({ userId: me.user.id, role: "admin" });
  assert.equal(set.error, null);
  assert.equal(set.data.user.id, me.user.id);
  assert.equal(set.data.user.role, "admin");
  assert.equal((await victor.client.getSession()).data.user.role, "admin");

  const wendy = await server.newUser("wendy@example.com");
  assertRefused(
    await wendy.client.admin.setRole({ userId: me.user.id, role: "user" }),
    403,
    "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE",
  );
  assertRefused(
    await admin.admin.setRole({ userId: "no-such-user", role: "user" }),
    404,
    "USER_NOT_FOUND",
  );
});
