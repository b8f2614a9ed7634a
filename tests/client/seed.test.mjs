// The seed quick-start's "Testing your setup", with the real Better Auth client.
import assert from "node:assert/strict";
import { test } from "node:test";

import { serverForThisFile } from "./harness.mjs";

const server = serverForThisFile();

test("the quick-start's 'Testing your setup' works as written", async () => {
  // Step 1 needs someone allowed to invite: the admin, in their own browser.
  const { client: adminAuthClient } = await server.admin();
  // Steps 2 to 4 are a visitor's, in another browser.
  const visitor = server.browser();
  const authClient = visitor.client;

  // 1. Create a test invite
  const { data } = await adminAuthClient.invite.create({
    role: "user",
    senderResponse: "token",
  });
  const token = data?.message;
  assert.match(token, /^[A-Za-z0-9]{24}$/, "the token comes back in `message`");

  // 2. Activate it
  const activated = await authClient.invite.activate({ token });
  assert.equal(activated.error, null);
  assert.equal(activated.data.status, true);
  assert.equal(activated.data.action, "SIGN_IN_UP_REQUIRED");
  const inviteCookie = await visitor.cookie("better-auth.invite-token");
  assert.ok(inviteCookie, "activation sets the invite cookie");
  assert.equal(inviteCookie.httpOnly, true);

  // 3. Sign up
  const signedUp = await authClient.signUp.email({
    email: "test@example.com",
    password: "test123",
    name: "Test User",
  });
  assert.equal(signedUp.error, null);
  assert.equal(signedUp.data.user.email, "test@example.com");
  assert.equal(signedUp.data.user.role, "user");
  assert.equal(typeof signedUp.data.token, "string");
  // The plugin redirects to `defaultRedirectAfterUpgrade` (the client follows
  // `{redirect, url}` in a browser) and clears the invite cookie.
  assert.equal(signedUp.data.redirect, true);
  assert.equal(signedUp.data.url, "/auth/invited");
  assert.equal(await visitor.cookie("better-auth.invite-token"), undefined);

  // 4. Check the role. The client answers `{ data, error }`: the seed's
  // `session?.user.role` is `session.data.user.role` with the real client.
  const session = await authClient.getSession();
  assert.equal(session.error, null);
  assert.equal(session.data.user.role, "user");
  assert.equal(session.data.user.email, "test@example.com");
  assert.equal(session.data.session.userId, session.data.user.id);

  // The role came from the invite: it shows one use.
  const info = await authClient.invite.get({ query: { token } });
  assert.equal(info.error, null);
  assert.equal(info.data.invitation.uses, 1);
  assert.equal(info.data.invitation.status, "used_up");
});
