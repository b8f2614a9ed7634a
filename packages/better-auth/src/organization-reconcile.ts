// Reconciliation: Better Auth's `organization`, `invitation` and `member` tables,
// read through its adapter (so any database), compared with what the ledger holds of
// each organization (`organization/state`); what the ledger lacks is recorded. A fact
// recorded twice is written once (the ledger keys facts by Better Auth's ids), so a
// reconciliation may run any number of times, beside the hooks.
//
// Creations and additions are recorded at their true time (`createdAt`). Better Auth
// keeps no time for a status, a role or a removal: those are recorded at the ledger's
// time, marked `observed`. What its tables overwrote (an invitation resent before it
// was accepted, a role changed twice) or deleted (who removed a member, or whether
// they left) cannot be recovered.
import type { DBAdapter } from "better-auth";

import type { Actor, LedgerClient } from "./ledger-client.js";

type Row = Record<string, any>;

/** One fact as the ledger's `organization/record` takes it. */
export type Fact = { type: string; [field: string]: unknown };

/** A fact the ledger lacked: with its true time (`at`), or `observed` now. */
export type MissingFact = {
  organizationId: string;
  actor: Actor | null;
  fact: Fact;
  at?: string;
  observed?: true;
};

export type ReconcileReport = {
  /** Organizations compared. */
  organizations: number;
  /** Facts the ledger recorded in this run. */
  recorded: MissingFact[];
  /** Facts it could not record (ledger down, or refused): a later run tries again. */
  failed: { missing: MissingFact; error: string }[];
};

/** The ledger's `organization/state` answer. */
type LedgerState = {
  created: boolean;
  invitations: { id: string; created: boolean; status: string | null; expiresAt: string | null }[];
  members: { id: string; userId: string; role: string; present: boolean }[];
};

const PAGE = 200;

/**
 * How long a hook may take to report what Better Auth has just committed. What the
 * ledger still lacks after it is the reconciliation's to record: a change made during
 * a run is then recorded by its hook, with its actor and true time, not as observed.
 */
const SETTLE_MS = 2000;

/** Every row of `model` matching `where`, a page at a time (by id, so paging is stable). */
async function allRows(adapter: DBAdapter, model: string, where: { field: string; value: string }[]): Promise<Row[]> {
  const rows: Row[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = (await adapter.findMany<Row>({
      model,
      where,
      limit: PAGE,
      offset,
      sortBy: { field: "id", direction: "asc" },
    })) as Row[];
    rows.push(...page);
    if (page.length < PAGE) return rows;
  }
}

const time = (at: unknown): number => (at instanceof Date ? at : new Date(String(at))).getTime();
const iso = (at: unknown): string => new Date(time(at)).toISOString();
const byCreation = (a: Row, b: Row) => time(a.createdAt) - time(b.createdAt) || String(a.id).localeCompare(String(b.id));

/** Better Auth's users, looked up once per run. */
class Users {
  private readonly byId = new Map<string, Promise<Row | null>>();
  private readonly byEmail = new Map<string, Promise<Row | null>>();

  constructor(private readonly adapter: DBAdapter) {}

  withId(id: unknown): Promise<Row | null> {
    return this.find(this.byId, "id", String(id));
  }

  withEmail(email: unknown): Promise<Row | null> {
    return this.find(this.byEmail, "email", String(email).toLowerCase());
  }

  private find(cache: Map<string, Promise<Row | null>>, field: string, value: string) {
    let found = cache.get(value);
    if (!found) {
      found = this.adapter.findOne<Row>({ model: "user", where: [{ field, value }] }).catch(() => null);
      cache.set(value, found);
    }
    return found;
  }
}

const actorOf = (user: Row | null): Actor | null =>
  user?.id && user?.email ? { id: String(user.id), email: String(user.email), name: user.name ?? null } : null;

const STATUS_FACT: Record<string, string> = {
  accepted: "invitationAccepted",
  rejected: "invitationRejected",
  canceled: "invitationCanceled",
};

/** What Better Auth's tables hold of one organization and the ledger lacks, in order. */
async function missingFacts(
  organization: Row,
  invitations: Row[],
  members: Row[],
  held: LedgerState,
  users: Users,
): Promise<MissingFact[]> {
  const organizationId = String(organization.id);
  const missing: MissingFact[] = [];
  const add = (fact: Fact, actor: Actor | null, when: { at: unknown } | "observed") =>
    missing.push({
      organizationId,
      actor,
      fact,
      ...(when === "observed" ? { observed: true as const } : { at: iso(when.at) }),
    });

  if (!held.created) {
    add({ type: "organizationCreated", name: organization.name, slug: organization.slug }, null, { at: organization.createdAt });
  }
  const heldInvitations = new Map(held.invitations.map((i) => [i.id, i]));
  for (const invitation of [...invitations].sort(byCreation)) {
    const known = heldInvitations.get(String(invitation.id));
    if (!known?.created) {
      add(
        {
          type: "invitationCreated",
          invitationId: invitation.id,
          inviterId: invitation.inviterId,
          email: invitation.email,
          role: String(invitation.role),
          teamId: invitation.teamId ?? null,
          expiresAt: iso(invitation.expiresAt),
        },
        actorOf(await users.withId(invitation.inviterId)),
        { at: invitation.createdAt },
      );
    } else if (
      invitation.status === "pending" &&
      known.expiresAt &&
      time(invitation.expiresAt) > time(known.expiresAt)
    ) {
      // A later expiry than the ledger's: sent again (how often, the table does not keep).
      add({ type: "invitationResent", invitationId: invitation.id, expiresAt: iso(invitation.expiresAt) }, null, "observed");
    }
    const statusFact = STATUS_FACT[String(invitation.status)];
    if (statusFact && known?.status !== invitation.status) {
      // Only the invitee may accept or reject (Better Auth checks their email).
      const invitee = invitation.status === "canceled" ? null : actorOf(await users.withEmail(invitation.email));
      add({ type: statusFact, invitationId: invitation.id }, invitee, "observed");
    }
  }

  const heldMembers = new Map(held.members.map((m) => [m.id, m]));
  const accepted = invitations.filter((i) => i.status === "accepted");
  for (const member of [...members].sort(byCreation)) {
    const known = heldMembers.get(String(member.id));
    if (!known) {
      const user = await users.withId(member.userId);
      const invitation = user ? invitationOf(member, String(user.email), accepted) : undefined;
      add(
        {
          type: "memberAdded",
          memberId: member.id,
          userId: member.userId,
          role: String(member.role),
          invitationId: invitation?.id ?? null,
        },
        invitation ? actorOf(user) : null,
        { at: member.createdAt },
      );
    } else if (known.present && known.role && known.role !== String(member.role)) {
      add(
        {
          type: "memberRoleChanged",
          memberId: member.id,
          userId: member.userId,
          roleBefore: known.role,
          role: String(member.role),
        },
        null,
        "observed",
      );
    }
  }
  // No row left: removed or left (which, and by whom, the table no longer says).
  const present = new Set(members.map((m) => String(m.id)));
  for (const known of held.members) {
    if (known.present && !present.has(known.id)) {
      add({ type: "memberRemoved", memberId: known.id, userId: known.userId }, null, "observed");
    }
  }
  return missing;
}

/** The accepted invitation a membership began with: the member's email, created before it, the latest. */
function invitationOf(member: Row, email: string, accepted: Row[]): Row | undefined {
  return accepted
    .filter((i) => String(i.email).toLowerCase() === email.toLowerCase() && time(i.createdAt) <= time(member.createdAt))
    .sort(byCreation)
    .at(-1);
}

/** Compares every organization of Better Auth's tables with the ledger and records what is missing. */
export async function reconcile(adapter: DBAdapter, ledger: LedgerClient): Promise<ReconcileReport> {
  const report: ReconcileReport = { organizations: 0, recorded: [], failed: [] };
  const users = new Users(adapter);
  for (const organization of await allRows(adapter, "organization", [])) {
    const organizationId = String(organization.id);
    const where = [{ field: "organizationId", value: organizationId }];
    const held = () => ledger.callWithoutHandshake<LedgerState>("organization/state", { organizationId });
    const [invitations, members, first] = await Promise.all([
      allRows(adapter, "invitation", where),
      allRows(adapter, "member", where),
      held(),
    ]);
    report.organizations += 1;
    let missing = await missingFacts(organization, invitations, members, first, users);
    if (missing.length) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      missing = await missingFacts(organization, invitations, members, await held(), users);
    }
    for (const fact of missing) {
      try {
        const answer = await ledger.callWithoutHandshake<{ recorded: boolean }>("organization/record", fact);
        if (answer?.recorded) report.recorded.push(fact);
      } catch (error) {
        report.failed.push({ missing: fact, error: String(error) });
      }
    }
  }
  return report;
}

/** One line for the log: what a run recorded and could not. */
export function describe(report: ReconcileReport): string {
  const name = ({ organizationId, fact }: MissingFact) =>
    `${fact.type} ${String(fact.invitationId ?? fact.memberId ?? organizationId)}${fact.invitationId || fact.memberId ? ` (organization ${organizationId})` : ""}`;
  const parts = [`compared ${report.organizations} organization(s), recorded ${report.recorded.length} missing fact(s)`];
  if (report.recorded.length) parts.push(report.recorded.map(name).join(", "));
  if (report.failed.length) parts.push(`could not record ${report.failed.length}: ${report.failed.map((f) => `${name(f.missing)}: ${f.error}`).join("; ")}`);
  return parts.join(": ");
}
