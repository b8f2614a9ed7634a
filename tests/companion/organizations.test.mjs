// Better Auth's organization plugin with the ledger's hooks: every step through the
// real client, and after each the ledger's audit answers are what Better Auth's
// `invitation` and `member` tables hold; `as_of` a moment between two steps is what
// the tables held then. The ledger's domain rule and its organization quota refuse
// through `authClient.organization.inviteMember`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { withStack } from "./harness.mjs";
import { ledgerView, ok, tables } from "./organization-views.mjs";

const LEDGER_ENV = {
  INVITE_DENIED_DOMAINS: "blocked.example",
  ORGANIZATION_INVITE_QUOTAS: "organization:open=3",
};

test("organization invitations and memberships are recorded, governed, and answered as of any moment", async () => {
  await withStack({ organization: true, ledgerEnv: LEDGER_ENV }, async ({ ledger, auth }) => {
    const owner = await auth.admin();
    const people = {};
    for (const name of ["bob", "carol", "dave", "erin"]) {
      people[name] = auth.browser();
      ok(await people[name].signUp(`${name}@example.com`), `${name} signs up`);
    }
    const org = ok(await owner.client.organization.create({ name: "Acme", slug: "acme" }), "create");
    const organizationId = org.id;
    const moments = [];
    // After each step: the ledger answers what the tables hold; remember both.
    const step = async (what) => {
      const held = await tables(auth, organizationId);
      assert.deepEqual(await ledgerView(ledger, organizationId), held, `after ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      moments.push({ what, at: new Date().toISOString(), held });
      await new Promise((resolve) => setTimeout(resolve, 20));
    };
    await step("creating the organization");
    const invite = async (email, extra = {}) =>
      owner.client.organization.inviteMember({ email, role: "member", organizationId, ...extra });

    const toBob = ok(await invite("bob@example.com"), "invite bob");
    await step("inviting bob");
    const accepted = ok(await people.bob.client.organization.acceptInvitation({ invitationId: toBob.id }), "accept");
    await step("bob accepting");

    const toCarol = ok(await invite("carol@example.com"), "invite carol");
    ok(await people.carol.client.organization.rejectInvitation({ invitationId: toCarol.id }), "reject");
    await step("carol rejecting");

    const toDave = ok(await invite("dave@example.com"), "invite dave");
    ok(await owner.client.organization.cancelInvitation({ invitationId: toDave.id }), "cancel");
    await step("canceling dave's invitation");

    const again = ok(await invite("dave@example.com"), "invite dave again");
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a later expiry, to the second
    const resent = ok(await invite("dave@example.com", { resend: true }), "resend");
    assert.equal(resent.id, again.id);
    await step("resending dave's invitation");
    // Re-inviting (cancelPendingInvitationsOnReInvite) cancels the pending one without a hook.
    const third = ok(await invite("dave@example.com"), "re-invite dave");
    assert.notEqual(third.id, again.id);
    await step("re-inviting dave");

    ok(
      await owner.client.organization.updateMemberRole({ memberId: accepted.member.id, role: "admin", organizationId }),
      "change bob's role",
    );
    await step("bob becoming admin");
    ok(await owner.client.organization.removeMember({ memberIdOrEmail: accepted.member.id, organizationId }), "remove bob");
    await step("removing bob");

    const toErin = ok(await invite("erin@example.com"), "invite erin");
    ok(await people.erin.client.organization.acceptInvitation({ invitationId: toErin.id }), "erin accepts");
    ok(await people.erin.client.organization.leave({ organizationId }), "erin leaves");
    await step("erin leaving");

    // Governed: the ledger's domain rule, then the organization's quota (3 open).
    const blocked = await invite("mallory@blocked.example");
    assert.equal(blocked.error?.code, "EMAIL_DOMAIN_NOT_ALLOWED", JSON.stringify(blocked.error));
    assert.equal(blocked.error?.status, 403);
    ok(await invite("f1@example.com"), "f1");
    ok(await invite("f2@example.com"), "f2");
    const over = await invite("f3@example.com");
    assert.equal(over.error?.code, "INVITE_QUOTA_EXCEEDED", JSON.stringify(over.error));
    assert.equal(over.error?.status, 429);
    assert.match(over.error.message, /open invitations of this organization: 3 of 3/);
    await step("the refusals (nothing written for them)");

    // As of each moment between steps: what the tables held then.
    for (const { what, at, held } of moments) {
      assert.deepEqual(await ledgerView(ledger, organizationId, at), held, `as of just after ${what}`);
    }

    // Who invited whom, with which role: from the ledger alone.
    const { members } = await ledger.audit(
      `/api/ledger/organizations/${organizationId}/members?ended=true`,
    );
    const bob = members.find((m) => m.id === accepted.member.id);
    assert.equal(bob.status, "removed");
    assert.equal(bob.invitedBy, toBob.inviterId);
    assert.equal(bob.email, "bob@example.com");
    const erin = members.find((m) => m.email === "erin@example.com");
    assert.equal(erin.status, "left");
    const { events } = await ledger.audit(
      `/api/ledger/organizations/${organizationId}/invitations/${again.id}/events`,
    );
    assert.deepEqual(
      events.map((e) => e.type),
      ["InvitationAllowed", "InvitationCreated", "InvitationResent", "InvitationCanceled"],
    );
    const { organizations } = await ledger.audit("/api/ledger/organizations");
    assert.deepEqual(
      organizations.map(({ id, name, members }) => ({ id, name, members })),
      [{ id: organizationId, name: "Acme", members: 1 }],
    );
  });
});
