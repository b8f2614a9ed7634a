// An organization's events (Better Auth's organization plugin, as the ledger
// recorded them) as sentences: who invited whom, who accepted, who changed a
// member's role or removed them, by name. `who` names a person part and `time`
// writes a time, as in sentences.js.
import { whose } from "./wording.js";

/** Someone by name, or "Someone" where the ledger knows no actor (a reconciliation). */
const actor = (id, who) => (id ? who(id) : "Someone");

/** Each organization event's sentence: `(data, who, time)` → parts. */
const TELL = {
  OrganizationCreated: (d, who) => [
    actor(d.byUserId, who),
    ` created the organization ${d.name}${d.slug ? ` (${d.slug})` : ""}.`,
  ],
  InvitationAllowed: (d, who) => [
    "The ledger's rules and quotas let ",
    who(d.inviterId),
    ` invite ${d.email} as ${d.role}.`,
  ],
  InvitationCreated: (d, who, time) => [
    who(d.inviterId),
    ` invited ${d.email} as ${d.role}. The invitation runs until ${time(d.expiresAt)}.`,
  ],
  InvitationResent: (d, who, time) => [
    actor(d.byUserId, who),
    ` sent the invitation again; it now runs until ${time(d.expiresAt)}.`,
  ],
  InvitationAccepted: (d, who) => [actor(d.byUserId, who), " accepted it."],
  InvitationRejected: (d, who) => [actor(d.byUserId, who), " declined it."],
  InvitationCanceled: (d, who) => [actor(d.byUserId, who), " cancelled it."],
  InvitationExpired: () => ["It expired."],
  MemberAdded: (d, who) =>
    d.invitationId
      ? [who(d.userId), ` became a member as ${d.role}, by accepting the invitation.`]
      : d.byUserId && d.byUserId !== d.userId
        ? [who(d.byUserId), " added ", who(d.userId), ` as ${d.role}.`]
        : [who(d.userId), ` became a member as ${d.role}.`],
  MemberRoleChanged: (d, who) => [
    actor(d.byUserId, who),
    " changed ",
    ...whose(d.byUserId, d.userId, who),
    ` role from ${d.roleBefore} to ${d.role}.`,
  ],
  MemberRemoved: (d, who) => [actor(d.byUserId, who), " removed ", who(d.userId), " from the organization."],
  MemberLeft: (d, who) => [who(d.userId), " left the organization."],
};

/**
 * The sentence of an organization's event, or `null` for an event of another
 * kind. A change a reconciliation found says so: it happened before it was recorded.
 */
export function organizationSentence(event, who, time) {
  const tell = TELL[event.type];
  if (!tell) return null;
  const d = event.data ?? {};
  const parts = tell(d, who, time);
  return d.observed
    ? [...parts, " (Found by a reconciliation of Better Auth's tables: it happened before then.)"]
    : parts;
}
