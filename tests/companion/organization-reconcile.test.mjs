// Nothing missed: what Better Auth committed while the ledger never heard of it (the
// Node process killed between the two, or the ledger down when a hook called) is
// recorded by the reconciliation, once, and the ledger's audit answers then match
// Better Auth's tables.
import assert from "node:assert/strict";
import { test } from "node:test";

import { eventually, withStack } from "./harness.mjs";
import { ledgerView, ok, tables } from "./organization-views.mjs";

const RECONCILE = "/invite-ledger/reconcile-organizations";

/** The organization's events of each type, from the ledger's audit API. */
async function eventsOf(ledger, organizationId) {
  const { events } = await ledger.audit(`/api/ledger/organizations/${encodeURIComponent(organizationId)}/events`);
  return events;
}

const count = (events, type, match = () => true) => events.filter((e) => e.type === type && match(e.data)).length;

/** An organization with its owner (Better Auth's admin) and bob invited. */
async function organizationWithBob(auth) {
  const owner = await auth.admin();
  const bob = auth.browser();
  ok(await bob.signUp("bob@example.com"), "bob signs up");
  const org = ok(await owner.client.organization.create({ name: "Acme", slug: "acme" }), "create");
  const invitation = ok(
    await owner.client.organization.inviteMember({ email: "bob@example.com", role: "member", organizationId: org.id }),
    "invite bob",
  );
  return { owner, bob, organizationId: org.id, invitation };
}

test("killed between Better Auth's commit and the ledger's call: after a restart the reconciliation records it, once", () =>
  withStack({ organization: true }, async ({ ledger, auth }) => {
    const { owner, bob, organizationId, invitation } = await organizationWithBob(auth);
    assert.deepEqual(await ledgerView(ledger, organizationId), await tables(auth, organizationId));

    // The server kills itself once Better Auth has committed the acceptance, before the ledger hears of it.
    await auth.kill();
    await auth.restart({ CRASH_BEFORE_LEDGER_CALL: "organization/record:invitationAccepted" });
    const accepting = await bob.client.organization
      .acceptInvitation({ invitationId: invitation.id })
      .catch((error) => ({ thrown: error }));
    assert.ok(accepting.thrown || accepting.error, `the acceptance got no answer: ${JSON.stringify(accepting)}`);
    assert.equal((await auth.exited()).signal, "SIGKILL");
    const held = await tables(auth, organizationId);
    assert.equal(held.invitations[0].status, "accepted", "Better Auth committed the acceptance");
    assert.equal(held.members.length, 2);
    const missed = await ledgerView(ledger, organizationId);
    assert.equal(missed.invitations[0].status, "pending", "the ledger never heard of it");
    assert.equal(missed.members.length, 1);

    // Restarted, the plugin reconciles at start: the ledger answers what the tables hold.
    await auth.restart();
    await eventually(
      async () => JSON.stringify(await ledgerView(ledger, organizationId)) === JSON.stringify(held),
      30000,
      "the ledger matching Better Auth's tables",
    );

    // Asked twice more (an admin, over HTTP): nothing more to record; each fact is in the log once.
    for (const run of [1, 2]) {
      const report = ok(await owner.client.$fetch(RECONCILE, { method: "POST", body: {} }), `reconciliation ${run}`);
      assert.deepEqual(report.recorded, [], `run ${run}: ${JSON.stringify(report)}`);
      assert.deepEqual(report.failed, []);
    }
    const events = await eventsOf(ledger, organizationId);
    const bobId = (await auth.userRow("bob@example.com")).id;
    const bobMember = held.members.find((m) => m.userId === bobId);
    assert.equal(count(events, "InvitationAccepted", (d) => d.invitationId === invitation.id), 1, JSON.stringify(events));
    assert.equal(count(events, "MemberAdded", (d) => d.memberId === bobMember.id), 1, JSON.stringify(events));
    assert.deepEqual(await ledgerView(ledger, organizationId), held);

    // The acceptance's time is not in Better Auth's tables: observed; the membership's is.
    const accepted = events.find((e) => e.type === "InvitationAccepted");
    assert.equal(accepted.data.observed, true, JSON.stringify(accepted));
    const added = events.find((e) => e.type === "MemberAdded" && e.data.memberId === bobMember.id);
    const { rows } = await auth.db.query(`SELECT "createdAt" FROM member WHERE id = $1`, [bobMember.id]);
    assert.equal(new Date(added.data.at).getTime(), rows[0].createdAt.getTime());
    assert.equal(added.data.observed, undefined);
    // Who invited bob is still answered: the membership is tied to the invitation accepted.
    const { members } = await ledger.audit(`/api/ledger/organizations/${organizationId}/members`);
    const bobSeen = members.find((m) => m.id === bobMember.id);
    assert.equal(bobSeen.invitedBy, invitation.inviterId);
    assert.equal(bobSeen.email, "bob@example.com");

    // Only an admin may ask over HTTP.
    const refused = await bob.client.$fetch(RECONCILE, { method: "POST", body: {} });
    assert.equal(refused.error?.status, 403, JSON.stringify(refused));
  }));

test("facts whose hook failed while the ledger was down are recorded by the reconciliation", () =>
  withStack({ organization: true, ledgerTimeoutMs: 500 }, async ({ ledger, auth }) => {
    const { owner, bob, organizationId, invitation } = await organizationWithBob(auth);
    const accepted = ok(await bob.client.organization.acceptInvitation({ invitationId: invitation.id }), "accept");
    const carol = auth.browser();
    ok(await carol.signUp("carol@example.com"), "carol signs up");
    const toCarol = ok(
      await owner.client.organization.inviteMember({ email: "carol@example.com", role: "member", organizationId }),
      "invite carol",
    );
    const carolJoined = ok(await carol.client.organization.acceptInvitation({ invitationId: toCarol.id }), "carol accepts");
    assert.deepEqual(await ledgerView(ledger, organizationId), await tables(auth, organizationId));

    // The ledger answers nothing: Better Auth's changes stand, the hooks' facts fail.
    ledger.pause();
    try {
      ok(
        await owner.client.organization.updateMemberRole({ memberId: accepted.member.id, role: "admin", organizationId }),
        "bob becomes admin",
      );
      ok(
        await owner.client.organization.removeMember({ memberIdOrEmail: carolJoined.member.id, organizationId }),
        "carol removed",
      );
    } finally {
      ledger.resume();
    }
    const held = await tables(auth, organizationId);
    assert.notDeepEqual(await ledgerView(ledger, organizationId), held, "the ledger missed both");

    const report = ok(await owner.client.$fetch(RECONCILE, { method: "POST", body: {} }), "reconciliation");
    assert.deepEqual(
      report.recorded.map(({ fact, observed }) => ({ type: fact.type, memberId: fact.memberId, observed })),
      [
        { type: "memberRoleChanged", memberId: accepted.member.id, observed: true },
        { type: "memberRemoved", memberId: carolJoined.member.id, observed: true },
      ],
      JSON.stringify(report),
    );
    assert.deepEqual(await ledgerView(ledger, organizationId), held);
    const { members } = await ledger.audit(`/api/ledger/organizations/${organizationId}/members?ended=true`);
    assert.equal(members.find((m) => m.id === carolJoined.member.id).status, "removed");

    const again = ok(await owner.client.$fetch(RECONCILE, { method: "POST", body: {} }), "reconciliation again");
    assert.deepEqual(again.recorded, []);
    const events = await eventsOf(ledger, organizationId);
    assert.equal(count(events, "MemberRoleChanged"), 1);
    assert.equal(count(events, "MemberRemoved"), 1);
  }));
