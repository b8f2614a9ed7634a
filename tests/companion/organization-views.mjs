// An organization as Better Auth's tables hold it and as the ledger's audit API
// answers it, in the same shape, for a scenario to compare.
import assert from "node:assert/strict";

/** Better Auth's rows of the organization, as an auditor would compare them. */
export async function tables(auth, organizationId) {
  const invitations = await auth.db.query(
    `SELECT id, email, role, status, "inviterId", "expiresAt" FROM invitation
      WHERE "organizationId" = $1 ORDER BY id`,
    [organizationId],
  );
  const members = await auth.db.query(
    `SELECT id, "userId", role FROM member WHERE "organizationId" = $1 ORDER BY id`,
    [organizationId],
  );
  return {
    invitations: invitations.rows.map((i) => ({ ...i, expiresAt: i.expiresAt.toISOString() })),
    members: members.rows,
  };
}

/** The same, from the ledger's audit API (now, or as of a moment). */
export async function ledgerView(ledger, organizationId, asOf) {
  const query = asOf ? `?as_of=${encodeURIComponent(asOf)}` : "";
  const base = `/api/ledger/organizations/${encodeURIComponent(organizationId)}`;
  const { invitations } = await ledger.audit(`${base}/invitations${query}`);
  const { members } = await ledger.audit(`${base}/members${query}`);
  const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return {
    invitations: invitations
      .map(({ id, email, role, status, inviterId, expiresAt }) => ({ id, email, role, status, inviterId, expiresAt }))
      .sort(byId),
    members: members.map(({ id, userId, role }) => ({ id, userId, role })).sort(byId),
  };
}

/** The data of a Better Auth client call that must succeed. */
export const ok = ({ data, error }, what) => {
  assert.equal(error, null, `${what}: ${JSON.stringify(error)}`);
  return data;
};
