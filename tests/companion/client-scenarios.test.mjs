// tests/client's invite scenarios that the other files here do not cover, through a
// real Better Auth server with the plugin: a link and a code, what `invite.get`
// tells, and the ledger's refusals as the client shows them (better-invite's code,
// the ledger's own in `ledgerCode`).
import assert from "node:assert/strict";
import { test } from "node:test";

import { ADMIN, INVITE_COOKIE, sleep, withStack } from "./harness.mjs";

function assertRefused(result, status, code, ledgerCode) {
  assert.ok(result.error, `refused, not ${JSON.stringify(result.data)}`);
  assert.equal(result.error.status, status, JSON.stringify(result.error));
  assert.equal(result.error.code, code, JSON.stringify(result.error));
  if (ledgerCode) assert.equal(result.error.ledgerCode, ledgerCode, JSON.stringify(result.error));
}

async function createToken(admin, body) {
  const { data, error } = await admin.client.invite.create({ senderResponse: "token", ...body });
  assert.equal(error, null, JSON.stringify(error));
  return data.message;
}

test('senderResponse "url" and tokenType "code": a link and a code each bring the invite\'s role', () =>
  withStack({}, async ({ auth, ledger }) => {
    const admin = await auth.admin();

    // The link: a GET that sets the invite cookie and goes to sign-up.
    const { data, error } = await admin.client.invite.create({ role: "admin", senderResponse: "url" });
    assert.equal(error, null, JSON.stringify(error));
    const url = new URL(data.message);
    assert.equal(url.origin, auth.baseURL);
    assert.match(url.pathname, /^\/api\/auth\/invite\/[A-Za-z0-9_-]+$/);
    const visitor = auth.browser();
    const response = await visitor.fetch(url, { redirect: "manual" });
    assert.ok([302, 303, 307].includes(response.status), `status ${response.status}`);
    assert.equal(new URL(response.headers.get("location"), url).pathname, "/auth/sign-up");
    const cookie = await visitor.cookie(INVITE_COOKIE);
    assert.ok(cookie, "the link sets the invite cookie");
    assert.equal(cookie.httpOnly, true);
    const linked = await visitor.signUp("linked@example.com");
    assert.equal(linked.error, null, JSON.stringify(linked.error));
    assert.equal((await auth.userRow("linked@example.com")).role, "admin", "the invite's role, not the default");

    // The code: six characters, activated with the front end's own callbackURL.
    const code = await createToken(admin, { role: "user", tokenType: "code" });
    assert.match(code, /^[A-Z0-9]{6}$/);
    const info = await admin.client.invite.get({ query: { token: code } });
    assert.equal(info.error, null, JSON.stringify(info.error));
    assert.equal(info.data.invitation.tokenType, "code");
    const coder = auth.browser();
    const activated = await coder.client.invite.activate({ token: code, callbackURL: "/welcome/sign-up" });
    assert.equal(activated.error, null, JSON.stringify(activated.error));
    assert.equal(activated.data.action, "SIGN_IN_UP_REQUIRED");
    assert.equal(activated.data.redirectTo, "/welcome/sign-up");
    // Better Auth signs its cookies: the code, a dot, the signature.
    assert.equal(decodeURIComponent((await coder.cookie(INVITE_COOKIE))?.value ?? "").split(".")[0], code);
    await coder.signUp("coder@example.com");

    // The ledger holds both uses, by Better Auth's ids.
    const uses = await ledger.uses();
    assert.deepEqual(
      uses.map((use) => [use.userEmail, use.userId, use.roleAfter]).sort(),
      [
        ["coder@example.com", (await auth.userRow("coder@example.com")).id, "user"],
        ["linked@example.com", (await auth.userRow("linked@example.com")).id, "admin"],
      ],
    );
  }));

test("invite.get tells the role, the uses and the inviter (or hides the inviter); a cancelled invite says so", () =>
  withStack({}, async ({ auth }) => {
    const admin = await auth.admin();
    const token = await createToken(admin, { role: "user", maxUses: 3 });
    const visitor = auth.browser();
    const { data, error } = await visitor.client.invite.get({ query: { token } });
    assert.equal(error, null, JSON.stringify(error));
    assert.equal(data.status, true);
    assert.equal(data.inviter.name, ADMIN.name);
    assert.equal(data.inviter.email, ADMIN.email);
    assert.equal(data.invitation.role, "user");
    assert.equal(data.invitation.maxUses, 3);
    assert.equal(data.invitation.uses, 0);

    const hidden = await createToken(admin, { role: "user", shareInviterName: false });
    const anonymous = await visitor.client.invite.get({ query: { token: hidden } });
    assert.equal(anonymous.error, null, JSON.stringify(anonymous.error));
    assert.equal(anonymous.data.inviter.name, null);

    const cancelled = await admin.client.invite.cancel({ token });
    assert.equal(cancelled.error, null, JSON.stringify(cancelled.error));
    const after = await admin.client.invite.get({ query: { token } });
    assert.match(after.data.invitation.status, /^cancell?ed$/);
    assertRefused(await auth.browser().client.invite.activate({ token }), 400, "INVALID_TOKEN", "INVITE_CANCELLED");
  }));

test("refused: an expired invite, another user than the invited one", () =>
  withStack({}, async ({ auth }) => {
    const admin = await auth.admin();

    const expiring = await createToken(admin, { role: "user", expiresIn: 1 });
    await sleep(1100);
    const visitor = auth.browser();
    assertRefused(await visitor.client.invite.activate({ token: expiring }), 400, "INVALID_OR_EXPIRED_INVITE", "INVITE_EXPIRED");
    assert.equal(await visitor.cookie(INVITE_COOKIE), undefined);
    const info = await visitor.client.invite.get({ query: { token: expiring } });
    assert.equal(info.data.invitation.status, "expired");

    const dave = auth.browser();
    await dave.signUp("dave@example.com");
    await admin.client.invite.create({ role: "admin", email: "dave@example.com" });
    const [mail] = await auth.emailsTo("dave@example.com");
    const eve = auth.browser();
    await eve.signUp("eve@example.com");
    assertRefused(await eve.client.invite.activate({ token: mail.token }), 400, "INVALID_EMAIL", "INVITE_EMAIL_MISMATCH");
    assertRefused(await eve.client.invite.reject({ token: mail.token }), 400, "CANT_REJECT_INVITE", "NOT_INVITEE");
    assertRefused(await eve.client.invite.cancel({ token: mail.token }), 400, "INSUFFICIENT_PERMISSIONS", "NOT_INVITE_CREATOR");
    assert.equal((await auth.userRow("eve@example.com")).role, "user", "nothing changed for Eve");
  }));

test("refused: a second activation by the same person, and malformed calls, with Better Auth's codes", () =>
  withStack({}, async ({ auth, ledger }) => {
    const admin = await auth.admin();
    const token = await createToken(admin, { role: "admin", maxUses: 3 });
    const carol = auth.browser();
    await carol.signUp("carol@example.com");
    const first = await carol.client.invite.activate({ token });
    assert.equal(first.error, null, JSON.stringify(first.error));
    assert.equal((await carol.client.getSession()).data.user.role, "admin");
    // The invite has seats left, but a person uses an invite once.
    assertRefused(
      await carol.client.invite.activate({ token }),
      400,
      "INVITE_TOKEN_HAS_ALREADY_BEEN_USED",
      "INVITE_ALREADY_USED_BY_USER",
    );
    assert.equal((await ledger.uses()).length, 1, "one use in the ledger");

    assertRefused(await admin.client.invite.create({ role: "user", maxUses: "three" }), 400, "VALIDATION_ERROR");
    assertRefused(
      await auth.browser().client.invite.activate({ token, callbackURL: "https://evil.example/" }),
      403,
      "INVALID_CALLBACK_URL",
    );
    assertRefused(await admin.client.invite.cancel({ token: 42 }), 400, "VALIDATION_ERROR");
    assert.equal((await admin.client.invite.get({ query: { token } })).data.invitation.status, "pending", "not cancelled");
  }));
