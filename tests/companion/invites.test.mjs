// The seed's quick-start and the private invites, through a real Better Auth server
// with @invite-ledger/better-auth beside the real ledger.
import assert from "node:assert/strict";
import { test } from "node:test";

import { eventually, withStack } from "./harness.mjs";
import {
  privateInviteExistingAccount,
  privateInviteNewAccount,
  quickStart,
  refusals,
  selfEscalation,
  signedInActivation,
} from "./scenarios.mjs";

const step = (outcome, name) => outcome.transcript.find((entry) => entry.step === name);

test("the quick-start: a public invite, activated, then a sign-up; the session shows the role", () =>
  withStack({}, async ({ auth, ledger }) => {
    const outcome = await quickStart(auth);
    assert.match(outcome.token, /^[A-Za-z0-9]{6,}$/, JSON.stringify(outcome.transcript));
    assert.equal(step(outcome, "activate").action, "SIGN_IN_UP_REQUIRED");
    assert.equal(step(outcome, "activate").inviteCookie, true, "activation sets the invite cookie");
    // As with better-invite, the sign-up ends in a redirect to `defaultRedirectAfterUpgrade`,
    // which the client follows, and the invite cookie is gone.
    assert.deepEqual(step(outcome, "sign up"), { step: "sign up", status: 200, shape: "html page", inviteCookie: false });
    assert.equal(outcome.role, "user");
    assert.equal(outcome.sessionRole, "user");
    assert.equal(step(outcome, "get invite").status, 200);

    // The ledger recorded the use by Better Auth's ids and email.
    const admin = await auth.userRow("admin@example.com");
    const uses = await eventually(async () => {
      const found = await ledger.uses();
      return found.length === 1 && found;
    }, 10000, "one use in the ledger");
    assert.equal(uses[0].userId, outcome.userId);
    assert.equal(uses[0].inviterId, admin.id);
    assert.equal(uses[0].userEmail, "test@example.com");
    assert.equal(uses[0].roleGranted, "user");
    assert.equal(uses[0].newAccount, true);

    // Who invited whom, by Better Auth's ids and emails.
    const tree = await ledger.audit(`/api/ledger/users/${encodeURIComponent(admin.id)}/invitees`);
    assert.equal(tree.user.email, "admin@example.com");
    assert.deepEqual(
      tree.invitees.map((invitee) => [invitee.id, invitee.email, invitee.invitedBy]),
      [[outcome.userId, "test@example.com", admin.id]],
    );
  }));

test("a private invite to a new account: the email's link, a sign-up, the invite's role", () =>
  withStack({}, async ({ auth, ledger }) => {
    const outcome = await privateInviteNewAccount(auth);
    assert.equal(step(outcome, "create private invite").message, "The invitation was sent");
    assert.deepEqual(step(outcome, "email"), { step: "email", newAccount: true, role: "admin", callback: "/auth/sign-up" });
    const link = step(outcome, "follow link");
    assert.equal(link.status, 302);
    assert.equal(link.location, "/auth/sign-up", "the link goes where its callbackURL says");
    assert.equal(link.inviteCookie, true);
    assert.equal(outcome.role, "admin");
    assert.equal(outcome.sessionRole, "admin");
    const uses = await eventually(async () => (await ledger.uses()).filter((u) => u.userId === outcome.userId).length === 1 && (await ledger.uses()), 10000, "the use");
    assert.equal(uses.find((u) => u.userId === outcome.userId).userEmail, "newcomer@example.com");
  }));

test("a private invite to an existing account: the role is upgraded at sign-in", () =>
  withStack({}, async ({ auth, ledger }) => {
    const outcome = await privateInviteExistingAccount(auth);
    assert.deepEqual(step(outcome, "email"), { step: "email", newAccount: false, role: "admin", callback: "/auth/sign-in" });
    assert.equal(step(outcome, "follow link").location, "/auth/sign-in");
    assert.deepEqual(step(outcome, "sign in"), { step: "sign in", status: 200, shape: "html page", inviteCookie: false });
    assert.equal(outcome.role, "admin", "the user row holds the new role");
    assert.equal(outcome.sessionRole, "admin", "the session the browser holds shows it");
    const uses = await eventually(async () => {
      const found = (await ledger.uses()).filter((u) => u.userId === outcome.userId);
      return found.length === 1 && found;
    }, 10000, "the use");
    assert.equal(uses[0].newAccount, false);
    assert.equal(uses[0].roleBefore, "user");
    assert.equal(uses[0].roleGranted, "admin");
  }));

test("a signed-in user activating an invite uses it at once, and the session shows the role", () =>
  withStack({}, async ({ auth }) => {
    const outcome = await signedInActivation(auth);
    const activated = step(outcome, "activate signed in");
    assert.equal(activated.status, 200, JSON.stringify(outcome.transcript));
    assert.equal(activated.action, "REDIRECT_TO_AFTER_UPGRADE");
    assert.equal(activated.redirectTo, "/auth/invited");
    assert.equal(step(outcome, "session").role, "admin");
  }));

test("refusals keep better-invite's status and code", () =>
  withStack({}, async ({ auth }) => {
    const outcome = await refusals(auth);
    const codes = Object.fromEntries(outcome.transcript.map((entry) => [entry.step, `${entry.status} ${entry.code ?? ""}`.trim()]));
    assert.deepEqual(codes, {
      "activate unknown token": "400 INVALID_TOKEN",
      "get unknown token": "400 INVALID_TOKEN",
      "activate used-up invite": "400 INVITE_TOKEN_HAS_ALREADY_BEEN_USED",
      "cancel someone else's invite": "400 INSUFFICIENT_PERMISSIONS",
      "cancel own invite": "200",
      "activate cancelled invite": "400 INVALID_TOKEN",
      "get someone else's private invite": "400 INVALID_TOKEN",
      "get own private invite": "200",
      "reject private invite": "200",
      "reject public invite": "400 CANT_REJECT_INVITE",
      "list invites": "200",
      "list invites signed out": "401 UNAUTHORIZED",
      "create signed out": "401 UNAUTHORIZED",
    });
  }));

test("a plain user cannot invite to a role above their own", () =>
  withStack({}, async ({ auth }) => {
    const outcome = await selfEscalation(auth);
    assert.deepEqual(outcome.transcript, [
      { step: "user creates admin invite", status: 400, code: "INSUFFICIENT_PERMISSIONS", inviteCookie: false },
    ]);
  }));

test("an admin's role change is the ledger's decision: recorded, and written on the row", () =>
  withStack({}, async ({ auth, ledger }) => {
    const bob = auth.browser();
    await bob.signUp("bob@example.com");
    const { id } = await auth.userRow("bob@example.com");
    const admin = await auth.admin();
    const set = await admin.client.admin.setRole({ userId: id, role: "admin" });
    assert.equal(set.error, null, JSON.stringify(set.error));
    const row = await auth.userRow("bob@example.com");
    assert.equal(row.role, "admin");
    assert.ok(row.inviteLedgerPosition, "the row holds the decision's log position");
    const { events } = await ledger.audit(`/api/ledger/events?aggregate=${encodeURIComponent(id)}`);
    assert.deepEqual(events.map((event) => event.type), ["Introduced", "RoleSet"]);
  }));

test("invite-only off: a sign-up whose invite is used up goes on with the default role, and says why", () =>
  withStack({}, async ({ auth, ledger }) => {
    const admin = await auth.admin();
    const token = (await admin.client.invite.create({ role: "admin", senderResponse: "token", maxUses: 1 })).data.message;
    const first = auth.browser();
    const second = auth.browser();
    assert.equal((await first.client.invite.activate({ token })).error, null);
    assert.equal((await second.client.invite.activate({ token })).error, null);
    await first.signUp("first@example.com");
    assert.equal((await auth.userRow("first@example.com")).role, "admin");

    const late = await second.signUp("second@example.com");
    assert.equal(late.error, null, JSON.stringify(late.error));
    assert.equal(late.data.user.role, "user");
    assert.deepEqual(late.data.invite, {
      used: false,
      code: "NO_USES_LEFT_FOR_INVITE",
      message: "No uses left for this invite",
    });
    assert.equal(await second.cookie("better-auth.invite_token"), undefined, "the spent invite is dropped");
    assert.equal((await auth.userRow("second@example.com")).role, "user");
    assert.deepEqual((await ledger.uses()).map((use) => use.userEmail), ["first@example.com"]);
  }));
