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
    const { invitations } = await ledger.audit(`/api/ledger/organizations/${organizationId}/invitations`);
    assert.equal(invitations[0].closedObserved, true, JSON.stringify(invitations));

    // Only an admin may ask over HTTP.
    const refused = await bob.client.$fetch(RECONCILE, { method: "POST", body: {} });
    assert.equal(refused.error?.status, 403, JSON.stringify(refused));
  }));

test("facts whose hooks failed while the ledger was down are recorded by the reconciliation", () =>
  withStack({ organization: true, ledgerTimeoutMs: 500 }, async ({ ledger, auth }) => {
    const { owner, bob, organizationId, invitation } = await organizationWithBob(auth);
    const accepted = ok(await bob.client.organization.acceptInvitation({ invitationId: invitation.id }), "accept");
    const people = {};
    for (const name of ["carol", "erin"]) {
      people[name] = auth.browser();
      ok(await people[name].signUp(`${name}@example.com`), `${name} signs up`);
    }
    const invite = async (email) =>
      ok(await owner.client.organization.inviteMember({ email, role: "member", organizationId }), `invite ${email}`);
    const carolJoined = ok(
      await people.carol.client.organization.acceptInvitation({ invitationId: (await invite("carol@example.com")).id }),
      "carol accepts",
    );
    const toDave = await invite("dave@example.com");
    const toErin = await invite("erin@example.com");
    const toFrank = await invite("frank@example.com");
    assert.deepEqual(await ledgerView(ledger, organizationId), await tables(auth, organizationId));

    // The ledger answers nothing: Better Auth's changes stand, every hook's fact fails.
    ledger.pause();
    let beta;
    try {
      ok(
        await owner.client.organization.updateMemberRole({ memberId: accepted.member.id, role: "admin", organizationId }),
        "bob becomes admin",
      );
      ok(
        await owner.client.organization.removeMember({ memberIdOrEmail: carolJoined.member.id, organizationId }),
        "carol removed",
      );
      ok(await people.erin.client.organization.rejectInvitation({ invitationId: toErin.id }), "erin rejects");
      ok(await owner.client.organization.cancelInvitation({ invitationId: toFrank.id }), "frank's canceled");
      // Resent a second later or more (the hooks above waited for the ledger): a later expiry.
      const resent = ok(
        await owner.client.organization.inviteMember({ email: "dave@example.com", role: "member", organizationId, resend: true }),
        "resend to dave",
      );
      assert.equal(resent.id, toDave.id);
      beta = ok(await owner.client.organization.create({ name: "Beta", slug: "beta" }), "create Beta");
    } finally {
      ledger.resume();
    }
    const held = await tables(auth, organizationId);
    assert.notDeepEqual(await ledgerView(ledger, organizationId), held, "the ledger missed them");

    const report = ok(await owner.client.$fetch(RECONCILE, { method: "POST", body: {} }), "reconciliation");
    assert.deepEqual(report.failed, []);
    const facts = report.recorded
      .map(({ organizationId: org, fact, observed }) => ({
        org: org === organizationId ? "acme" : org === beta.id ? "beta" : org,
        type: fact.type,
        id: fact.invitationId ?? fact.memberId ?? null,
        observed: observed ?? false,
      }))
      .sort((a, b) => `${a.org}${a.type}`.localeCompare(`${b.org}${b.type}`));
    const betaOwner = (await tables(auth, beta.id)).members[0];
    assert.deepEqual(facts, [
      { org: "acme", type: "invitationCanceled", id: toFrank.id, observed: true },
      { org: "acme", type: "invitationRejected", id: toErin.id, observed: true },
      { org: "acme", type: "invitationResent", id: toDave.id, observed: true },
      { org: "acme", type: "memberRemoved", id: carolJoined.member.id, observed: true },
      { org: "acme", type: "memberRoleChanged", id: accepted.member.id, observed: true },
      { org: "beta", type: "memberAdded", id: betaOwner.id, observed: false },
      { org: "beta", type: "organizationCreated", id: null, observed: false },
    ]);
    assert.deepEqual(await ledgerView(ledger, organizationId), held);
    assert.deepEqual(await ledgerView(ledger, beta.id), await tables(auth, beta.id));
    // The audit answers tell which times are only when the reconciliation found the change.
    const { members } = await ledger.audit(`/api/ledger/organizations/${organizationId}/members?ended=true`);
    const carolSeen = members.find((m) => m.id === carolJoined.member.id);
    assert.deepEqual([carolSeen.status, carolSeen.endedObserved], ["removed", true]);
    const bobSeen = members.find((m) => m.id === accepted.member.id);
    assert.deepEqual([bobSeen.role, bobSeen.roleObserved, bobSeen.endedObserved], ["admin", true, false]);
    const { invitations } = await ledger.audit(`/api/ledger/organizations/${organizationId}/invitations`);
    const observed = Object.fromEntries(invitations.map((i) => [i.id, i.closedObserved]));
    assert.deepEqual(
      [observed[toErin.id], observed[toFrank.id], observed[invitation.id]],
      [true, true, false],
      "erin's and frank's were found closed; bob's acceptance was recorded by its hook",
    );
    // The organization's creation keeps its true time.
    const created = (await eventsOf(ledger, beta.id)).find((e) => e.type === "OrganizationCreated");
    const { rows } = await auth.db.query(`SELECT "createdAt" FROM organization WHERE id = $1`, [beta.id]);
    assert.equal(new Date(created.data.at).getTime(), rows[0].createdAt.getTime());

    const again = ok(await owner.client.$fetch(RECONCILE, { method: "POST", body: {} }), "reconciliation again");
    assert.deepEqual(again.recorded, []);
    const events = await eventsOf(ledger, organizationId);
    for (const type of ["MemberRoleChanged", "MemberRemoved", "InvitationRejected", "InvitationCanceled", "InvitationResent"]) {
      assert.equal(count(events, type), 1, `${type}: ${JSON.stringify(events)}`);
    }
  }));
