// Better Auth's `organization()` plugin beside the ledger: its invitations and
// memberships are decided by Better Auth and recorded in the ledger, as events with
// the acting user and the time, keyed by Better Auth's ids (so a fact sent twice is
// recorded once). Before an invitation is written, the ledger's domain rules and
// quotas are asked.
//
//   const ledger = { ledgerUrl, apiKey };
//   organization({ organizationHooks: ledgerOrganizationHooks({ ...ledger, hooks: yours }) }),
//   inviteLedgerOrganization(ledger), // the routes that fire no hook, and the reconciliation
import { randomUUID } from "node:crypto";

import type { BetterAuthPlugin, DBAdapter } from "better-auth";
import { APIError, createAuthEndpoint, createAuthMiddleware, getSessionFromCtx } from "better-auth/api";
import type { OrganizationOptions } from "better-auth/plugins";
import { tryGetCurrentAuthEndpointContext } from "@better-auth/core/context";

import { LedgerClient, LedgerRefusal, LedgerUnavailable } from "./ledger-client.js";
import type { Actor } from "./ledger-client.js";
import { describe, reconcile } from "./organization-reconcile.js";
import type { Fact, ReconcileReport } from "./organization-reconcile.js";

type Hooks = NonNullable<OrganizationOptions["organizationHooks"]>;
type Row = Record<string, any>;

export type LedgerOrganizationOptions = {
  /** Where invite-ledger listens. */
  ledgerUrl: string;
  /** An API key of scope `companion`. */
  apiKey: string;
  /** Milliseconds each call to the ledger may take. @default 5000 */
  ledgerTimeoutMs?: number;
  fetch?: typeof fetch;
  /** Your own organization hooks: each runs first, then the ledger's. */
  hooks?: Hooks;
  /**
   * A fact the ledger could not record (it was down): Better Auth's change stands,
   * and `reconcileOrganizations` records it later. @default logs to the console
   */
  onRecordError?: (error: unknown, fact: Fact) => void;
  /**
   * When `inviteLedgerOrganization` compares Better Auth's organization tables with
   * the ledger and records what is missing: once at start (`atStart`), and every
   * `everyMs` milliseconds if given (never two runs at once). `false`: only when asked
   * (`reconcileOrganizations`, or `POST /invite-ledger/reconcile-organizations`).
   * @default { atStart: true }
   */
  reconcile?: false | { atStart?: boolean; everyMs?: number };
  /** Roles (Better Auth's `user.role`) that may ask for a reconciliation over HTTP. @default ["admin"] */
  reconcileRoles?: string[];
};

export type { Fact, MissingFact, ReconcileReport } from "./organization-reconcile.js";

const clients = new WeakMap<object, LedgerClient>();

/** One ledger client per options object (the hooks and the plugin may share one). */
function clientOf(options: LedgerOrganizationOptions): LedgerClient {
  let client = clients.get(options);
  if (!client) {
    client = new LedgerClient({
      ledgerUrl: options.ledgerUrl,
      apiKey: options.apiKey,
      timeoutMs: options.ledgerTimeoutMs ?? 5000,
      callbackUrl: () => "",
      fetch: options.fetch ?? ((...args) => globalThis.fetch(...args)),
    });
    clients.set(options, client);
  }
  return client;
}

const actorOf = (user: Row | null | undefined): Actor | null =>
  user?.id && user?.email ? { id: String(user.id), email: String(user.email), name: user.name ?? null } : null;

const iso = (at: unknown): string | undefined => {
  if (at === undefined || at === null) return undefined;
  const date = at instanceof Date ? at : new Date(String(at));
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
};

/** The signed-in user of a request's context. */
async function sessionActor(ctx: any): Promise<Actor | null> {
  const session = ctx.context?.session ?? (await getSessionFromCtx(ctx).catch(() => null));
  return actorOf(session?.user);
}

/** The signed-in user of the request being answered (hooks that name only the target). */
async function currentActor(): Promise<Actor | null> {
  const ctx = tryGetCurrentAuthEndpointContext();
  return ctx ? sessionActor(ctx) : null;
}

/** Records facts of one organization, in order; a failure is reported, never thrown. */
export class OrganizationRecorder {
  constructor(private readonly options: LedgerOrganizationOptions) {}

  async record(organizationId: string, actor: Actor | null, facts: Fact[], at?: unknown): Promise<boolean> {
    let all = true;
    for (const fact of facts) {
      try {
        await clientOf(this.options).callWithoutHandshake("organization/record", {
          organizationId,
          actor,
          ...(iso(at) ? { at: iso(at) } : {}),
          fact,
        });
      } catch (error) {
        all = false;
        (this.options.onRecordError ?? report)(error, fact);
      }
    }
    return all;
  }
}

function report(error: unknown, fact: Fact) {
  console.error(`invite-ledger: could not record ${fact.type} (reconcileOrganizations will): ${String(error)}`);
}

const invitationCreated = (invitation: Row): Fact => ({
  type: "invitationCreated",
  invitationId: invitation.id,
  inviterId: invitation.inviterId,
  email: invitation.email,
  role: String(invitation.role),
  teamId: invitation.teamId ?? null,
  expiresAt: iso(invitation.expiresAt),
});

const memberAdded = (member: Row, invitationId?: string): Fact => ({
  type: "memberAdded",
  memberId: member.id,
  userId: member.userId,
  role: String(member.role),
  invitationId: invitationId ?? null,
});

/** The ledger's refusal as Better Auth's client shows it: the ledger's status and code. */
function refusal(error: unknown): APIError {
  if (error instanceof LedgerRefusal) {
    const status = ({ 400: "BAD_REQUEST", 403: "FORBIDDEN", 409: "CONFLICT", 429: "TOO_MANY_REQUESTS" } as const)[
      error.status as 400 | 403 | 409 | 429
    ];
    return APIError.from(status ?? "BAD_REQUEST", { code: error.code, message: error.message });
  }
  if (error instanceof LedgerUnavailable) {
    return APIError.from("SERVICE_UNAVAILABLE", {
      code: "LEDGER_UNAVAILABLE",
      message: "The invite ledger is unavailable, try again",
    });
  }
  throw error;
}

/**
 * `organizationHooks` for Better Auth's `organization()` plugin: each of yours (in
 * `options.hooks`) runs first; then the ledger records the fact, or (before an
 * invitation is written) answers whether it may be.
 */
export function ledgerOrganizationHooks(options: LedgerOrganizationOptions): Hooks {
  const own: Hooks = options.hooks ?? {};
  const recorder = new OrganizationRecorder(options);
  return {
    ...own,
    afterCreateOrganization: async (data) => {
      await own.afterCreateOrganization?.(data);
      const { organization, member, user } = data as Row;
      await recorder.record(
        organization.id,
        actorOf(user),
        [{ type: "organizationCreated", name: organization.name, slug: organization.slug }],
        organization.createdAt,
      );
      await recorder.record(organization.id, actorOf(user), [memberAdded(member)], member.createdAt);
    },
    beforeCreateInvitation: async (data) => {
      const answer = await own.beforeCreateInvitation?.(data);
      const invitation = { ...(data.invitation as Row), ...((answer as Row | undefined)?.data ?? {}) };
      // The id Better Auth will write (its adapter keeps a given one), so the
      // ledger's allowance and the invitation meet.
      const id = invitation.id ?? randomUUID();
      try {
        await clientOf(options).callWithoutHandshake(
          "organization/allow-invitation",
          {
            organizationId: data.organization.id,
            invitationId: id,
            actor: actorOf(data.inviter),
            email: invitation.email,
            role: String(invitation.role),
          },
          `allow:${id}`,
        );
      } catch (error) {
        throw refusal(error);
      }
      return { data: { ...((answer as Row | undefined)?.data ?? {}), id } };
    },
    afterCreateInvitation: async (data) => {
      await own.afterCreateInvitation?.(data);
      const invitation = data.invitation as Row;
      await recorder.record(
        data.organization.id,
        actorOf(data.inviter),
        [invitationCreated(invitation)],
        invitation.createdAt,
      );
    },
    afterAcceptInvitation: async (data) => {
      await own.afterAcceptInvitation?.(data);
      const { invitation, member, user, organization } = data as Row;
      await recorder.record(organization.id, actorOf(user), [
        { type: "invitationAccepted", invitationId: invitation.id },
        memberAdded(member, invitation.id),
      ]);
    },
    afterRejectInvitation: async (data) => {
      await own.afterRejectInvitation?.(data);
      const { invitation, user, organization } = data as Row;
      await recorder.record(organization.id, actorOf(user), [{ type: "invitationRejected", invitationId: invitation.id }]);
    },
    afterCancelInvitation: async (data) => {
      await own.afterCancelInvitation?.(data);
      const { invitation, cancelledBy, organization } = data as Row;
      await recorder.record(organization.id, actorOf(cancelledBy), [
        { type: "invitationCanceled", invitationId: invitation.id },
      ]);
    },
    afterAddMember: async (data) => {
      await own.afterAddMember?.(data);
      const { member, organization } = data as Row;
      await recorder.record(organization.id, await currentActor(), [memberAdded(member)], member.createdAt);
    },
    afterUpdateMemberRole: async (data) => {
      await own.afterUpdateMemberRole?.(data);
      const { member, previousRole, organization } = data as Row;
      await recorder.record(organization.id, await currentActor(), [
        {
          type: "memberRoleChanged",
          memberId: member.id,
          userId: member.userId,
          roleBefore: String(previousRole),
          role: String(member.role),
        },
      ]);
    },
    afterRemoveMember: async (data) => {
      await own.afterRemoveMember?.(data);
      const { member, organization } = data as Row;
      await recorder.record(organization.id, await currentActor(), [
        { type: "memberRemoved", memberId: member.id, userId: member.userId },
      ]);
    },
  };
}

/** The answer an after-hook sees, when the endpoint succeeded. */
const returned = (ctx: any): Row | null => {
  const value = ctx.context?.returned;
  return value && typeof value === "object" && !(value instanceof Error) && !(value instanceof Response) ? value : null;
};

const runs = new WeakMap<object, Promise<unknown>>();

/** One reconciliation at a time per options object: a call during a run waits for it, then runs. */
function reconcileOnce(adapter: DBAdapter, options: LedgerOrganizationOptions): Promise<ReconcileReport> {
  const run = (runs.get(options) ?? Promise.resolve())
    .catch(() => undefined)
    .then(() => reconcile(adapter, clientOf(options)));
  runs.set(options, run);
  return run;
}

/**
 * Compares Better Auth's `organization`, `invitation` and `member` tables (through its
 * adapter) with the ledger, and records what the ledger lacks: once each, at its true
 * time where the tables keep it, `observed` now where they do not. For a script or a
 * job: `await reconcileOrganizations(auth, { ledgerUrl, apiKey })`.
 */
export async function reconcileOrganizations(
  auth: { $context: Promise<{ adapter: DBAdapter }> },
  options: LedgerOrganizationOptions,
): Promise<ReconcileReport> {
  return reconcileOnce((await auth.$context).adapter, options);
}

const inBackground = new WeakSet<object>();

/**
 * A run in the background (at start, on the interval): logged, never thrown; skipped
 * while the last one still runs, so a slow ledger never piles runs up.
 */
async function reconcileInBackground(adapter: DBAdapter, options: LedgerOrganizationOptions) {
  if (inBackground.has(options)) return;
  inBackground.add(options);
  try {
    const report = await reconcileOnce(adapter, options);
    if (report.recorded.length || report.failed.length) console.info(`invite-ledger: reconciliation ${describe(report)}`);
  } catch (error) {
    console.error(`invite-ledger: reconciliation of organizations failed (the next run tries again): ${String(error)}`);
  } finally {
    inBackground.delete(options);
  }
}

/** A signed-in user with one of `roles` (Better Auth's `user.role`, comma-separated). */
async function requireRole(ctx: any, roles: string[]) {
  const session = await getSessionFromCtx(ctx).catch(() => null);
  if (!session) throw APIError.from("UNAUTHORIZED", { code: "UNAUTHORIZED", message: "Sign in first" });
  const held = String(session.user.role ?? "")
    .split(",")
    .map((role) => role.trim());
  if (!held.some((role) => roles.includes(role))) {
    throw APIError.from("FORBIDDEN", {
      code: "YOU_ARE_NOT_ALLOWED_TO_RECONCILE",
      message: `Only ${roles.join(", ")} may ask for a reconciliation`,
    });
  }
}

/**
 * A small server plugin for what the organization plugin does without a hook: an
 * invitation sent again (`inviteMember({ resend: true })`), pending invitations
 * canceled by `cancelPendingInvitationsOnReInvite`, and a member who leaves; and for
 * the reconciliation (at start, on an interval, or `POST /invite-ledger/reconcile-organizations`).
 */
export const inviteLedgerOrganization = (options: LedgerOrganizationOptions) => {
  const recorder = new OrganizationRecorder(options);
  const plan = options.reconcile === false ? null : { atStart: true, ...options.reconcile };
  return {
    id: "invite-ledger-organization",
    init(context) {
      if (plan?.atStart) setTimeout(() => void reconcileInBackground(context.adapter, options), 0).unref();
      if (plan?.everyMs && plan.everyMs > 0) {
        setInterval(() => void reconcileInBackground(context.adapter, options), plan.everyMs).unref();
      }
    },
    endpoints: {
      reconcileOrganizations: createAuthEndpoint(
        "/invite-ledger/reconcile-organizations",
        {
          method: "POST",
          metadata: {
            openapi: {
              operationId: "reconcileOrganizations",
              description: "Records in invite-ledger what Better Auth's organization tables hold and it lacks",
            },
          },
        },
        async (ctx) => {
          // Over HTTP: an admin's session. A call from the server's own code (`auth.api`) has no request.
          if (ctx.request) await requireRole(ctx, options.reconcileRoles ?? ["admin"]);
          try {
            return ctx.json(await reconcileOnce(ctx.context.adapter, options));
          } catch (error) {
            throw refusal(error);
          }
        },
      ),
    },
    hooks: {
      after: [
        {
          matcher: (ctx) => ctx.path === "/organization/invite-member",
          handler: createAuthMiddleware(async (ctx) => {
            const invitation = returned(ctx);
            if (!invitation?.id || !invitation.organizationId) return;
            const actor = await sessionActor(ctx);
            const facts: Fact[] = [];
            if (ctx.body?.resend) {
              facts.push({ type: "invitationResent", invitationId: invitation.id, expiresAt: iso(invitation.expiresAt) });
            }
            // Re-inviting cancels the email's other pending invitations without a hook:
            // every canceled one of that email is sent (the ledger keeps each once).
            const canceled = (await ctx.context.adapter.findMany({
              model: "invitation",
              where: [
                { field: "organizationId", value: invitation.organizationId },
                { field: "email", value: String(invitation.email).toLowerCase() },
                { field: "status", value: "canceled" },
              ],
            })) as Row[];
            for (const other of canceled) {
              if (other.id !== invitation.id) facts.push({ type: "invitationCanceled", invitationId: other.id });
            }
            if (facts.length) await recorder.record(invitation.organizationId, actor, facts);
          }),
        },
        {
          matcher: (ctx) => ctx.path === "/organization/leave",
          handler: createAuthMiddleware(async (ctx) => {
            const member = returned(ctx);
            if (!member?.id || !member.organizationId) return;
            await recorder.record(member.organizationId, await sessionActor(ctx), [
              { type: "memberLeft", memberId: member.id, userId: member.userId },
            ]);
          }),
        },
      ],
    },
  } satisfies BetterAuthPlugin;
};
