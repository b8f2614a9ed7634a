// better-invite's server options the binary offers as configuration, through the
// real client: unlimited uses (`INFINITY_MAX_USES`) and the plugin's signed
// `invite_token` cookie (`INVITE_COOKIE_NAME`, `INVITE_COOKIE_SIGNED`).
import assert from "node:assert/strict";
import { test } from "node:test";

import { serverForThisFile, USER_PASSWORD } from "./harness.mjs";

let admin;
const server = serverForThisFile(
  async (started) => {
    admin = (await started.admin()).client;
  },
  {
    INFINITY_MAX_USES: "true",
    INVITE_COOKIE_NAME: "{prefix}.invite_token",
    INVITE_COOKIE_SIGNED: "true",
  },
);

test("a public invite without maxUses takes everyone who comes, under the plugin's signed cookie", async () => {
  const created = await admin.invite.create({ role: "admin", senderResponse: "token" });
  assert.equal(created.error, null, JSON.stringify(created.error));
  const token = created.data.message;

  for (const n of [1, 2, 3]) {
    const visitor = server.browser();
    const activated = await visitor.client.invite.activate({ token });
    assert.equal(activated.error, null, JSON.stringify(activated.error));
    const cookie = await visitor.cookie("better-auth.invite_token");
    const [value, signature] = decodeURIComponent(cookie.value).split(".");
    assert.equal(value, token, "the cookie holds the token...");
    assert.match(signature, /^[A-Za-z0-9+/]{43}=$/, "...and its signature");

    const signedUp = await visitor.client.signUp.email({ email: `guest${n}@example.com`, password: USER_PASSWORD, name: "Guest" });
    assert.equal(signedUp.error, null, JSON.stringify(signedUp.error));
    assert.equal(signedUp.data.user.role, "admin");
  }

  const listed = await admin.invite.list({ query: {} });
  assert.equal(listed.error, null, JSON.stringify(listed.error));
  const [invitation] = listed.data.invitations;
  assert.equal(invitation.infinityMaxUses, true);
  assert.equal(invitation.maxUses, 1, "stored as better-invite stores it");
  assert.equal(invitation.uses, 3);
  assert.equal(invitation.status, "pending");
});
