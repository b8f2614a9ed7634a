// Where a held invite is used: a seat reserved before Better Auth writes a new user
// (inside the sign-up's transaction), confirmed after the commit; and for a user who
// already exists, a use recorded when they sign in by any of better-invite's paths.
import { createHmac } from "node:crypto";

import type { GenericEndpointContext } from "better-auth";
import { generateId } from "better-auth";
import { APIError, createAuthMiddleware, getSessionFromCtx } from "better-auth/api";

import type { PluginContext, Reservation } from "./context.js";
import { actorOf, keyOf, positionKey } from "./context.js";
import { ERROR_CODES, toAPIError } from "./errors.js";
import { LedgerRefusal } from "./ledger-client.js";
import type { InviteUser, LedgerInvite } from "./options.js";
import { applyRole, POSITION_FIELD, withdrawRole } from "./roles.js";
import { expireInviteCookie, inviteCookie, landUse, redirectURL } from "./routes/index.js";
import { allowed } from "./routes/shared.js";

/** The paths after which better-invite uses a held invite. */
export const SIGN_IN_PATHS = new Set([
  "/sign-up/email",
  "/sign-in/email",
  "/sign-in/email-otp",
  "/callback/:id",
  "/verify-email",
  "/two-factor/verify-totp",
  "/two-factor/verify-backup-code",
  "/two-factor/verify-otp",
]);

/** First-factor paths after which Better Auth's twoFactor plugin may still ask for a code. */
const TWO_FACTOR_FIRST_STEPS = new Set(["/sign-in/email", "/sign-in/username", "/sign-in/phone-number"]);

/**
 * True when this sign-in still needs its second factor: the twoFactor plugin (whose
 * hook may run after ours) will drop the session, so the invite waits for the code.
 * A trusted device (its signed cookie and record, as the plugin checks them) skips it.
 */
async function awaitsSecondFactor(ctx: GenericEndpointContext, user: Record<string, any>) {
  if (!TWO_FACTOR_FIRST_STEPS.has(ctx.path ?? "") || !user.twoFactorEnabled) return false;
  if (!ctx.context.options.plugins?.some((plugin) => plugin.id === "two-factor")) return false;
  const cookie = await ctx.getSignedCookie(ctx.context.createAuthCookie("trust_device").name, ctx.context.secret);
  const [mac, identifier] = typeof cookie === "string" ? cookie.split("!") : [];
  if (!mac || !identifier) return true;
  const expected = createHmac("sha256", ctx.context.secret).update(`${user.id}!${identifier}`).digest("base64url");
  if (mac !== expected) return true;
  const record = await ctx.context.internalAdapter.findVerificationValue(identifier);
  return !record || new Date(record.expiresAt) < new Date();
}

/** Users made by an administrator are not sign-ups: invite-only does not apply to them. */
const NOT_SIGN_UPS = new Set(["/admin/create-user"]);

async function heldToken(ctx: GenericEndpointContext, plugin: PluginContext) {
  const token = await ctx.getSignedCookie(inviteCookie(ctx, plugin).name, ctx.context.secret);
  return typeof token === "string" && token ? token : null;
}

/**
 * `user.create.before`: runs inside Better Auth's sign-up transaction. With an invite
 * held, the ledger reserves a seat for the new user's id (which the plugin sets, so
 * the ledger knows it) and the user is written with the invite's role. A refusal with
 * invite-only on throws, so the transaction writes no user row.
 */
export function beforeUserCreate(plugin: PluginContext) {
  return async (user: Record<string, any>, ctx?: GenericEndpointContext | null) => {
    if (!ctx || NOT_SIGN_UPS.has(ctx.path ?? "")) return;
    plugin.sweep();
    const token = await heldToken(ctx, plugin);
    const inviteOnly = await plugin.inviteOnly().catch((error) => {
      throw toAPIError(error);
    });
    if (!token && !inviteOnly) return;
    const id = (user.id as string | undefined) ?? (ctx.context.generateId({ model: "user" }) || generateId());
    // The app's own rule first (its function or boolean form: the permission form needs
    // a session, which a sign-up does not have yet).
    const canAccept = plugin.options.canAcceptInvite;
    if (token && typeof canAccept !== "object") {
      const invitedUser = { ...user, id } as InviteUser;
      const accepted = typeof canAccept === "function" ? await canAccept({ invitedUser, newAccount: true }) : canAccept;
      if (!accepted) {
        if (inviteOnly) throw APIError.from("BAD_REQUEST", ERROR_CODES.CANT_ACCEPT_INVITE);
        plugin.refusals.set(id, { ...ERROR_CODES.CANT_ACCEPT_INVITE, at: Date.now() });
        return { data: { id } };
      }
    }
    let answer: any;
    try {
      // Without a token (invite-only), the ledger records the refused sign-up and says why.
      answer = await plugin.ledger.call(
        "invite/reserve",
        { token, user: { id, email: user.email, name: user.name ?? null } },
        keyOf("reserve", id, token ?? ""),
      );
    } catch (error) {
      if (inviteOnly || !(error instanceof LedgerRefusal)) throw toAPIError(error, { usedUp: "NO_USES_LEFT_FOR_INVITE" });
      // Invite-only off: the sign-up goes on with the default role, and its answer says why.
      const refusal = toAPIError(error, { usedUp: "NO_USES_LEFT_FOR_INVITE" }).body as { code?: string; message?: string };
      plugin.refusals.set(id, { code: refusal?.code ?? error.code, message: refusal?.message ?? error.message, at: Date.now() });
      return { data: { id } };
    }
    const invite = (answer?.invitation ?? answer?.terms ?? answer?.invite ?? {}) as Record<string, unknown>;
    const reservation: Reservation = {
      reservationId: String(answer.reservationId),
      role: answer.role,
      position: String(answer.position),
      redirectToAfterUpgrade: (answer.redirectToAfterUpgrade ?? invite.redirectToAfterUpgrade ?? plugin.options.defaultRedirectAfterUpgrade) as
        | string
        | undefined,
      invite,
      token: token as string,
      at: Date.now(),
    };
    plugin.reservations.set(id, reservation);
    const position = answer.position == null ? {} : { [POSITION_FIELD]: positionKey(answer.position) };
    return { data: { id, role: reservation.role, ...position } };
  };
}

/**
 * `user.create.after`: runs once the sign-up's transaction committed. The use is
 * confirmed; if this process dies first, the ledger asks (`user.exists`) and confirms.
 */
export function afterUserCreate(plugin: PluginContext) {
  return async (user: Record<string, any>, ctx?: GenericEndpointContext | null) => {
    const reservation = user?.id ? plugin.reservations.get(user.id) : undefined;
    if (!reservation) return;
    const logger = ctx?.context.logger ?? console;
    const confirm = async () => {
      try {
        // With the user as written, the ledger records the person without reading the seat back.
        await plugin.ledger.call(
          "invite/confirm",
          { reservationId: reservation.reservationId, user: { id: user.id, email: user.email, name: user.name ?? null } },
          keyOf("confirm", reservation.reservationId),
        );
      } catch (error) {
        if (error instanceof LedgerRefusal && error.code === "RESERVATION_RELEASED") {
          // The ledger gave the seat back (it asked before this commit was visible):
          // the user stays, without the invite's role.
          const { defaultRole } = await plugin.hello();
          await withdrawRole(ctx?.context ?? null, user.id, String(defaultRole ?? "user"), reservation.position);
          logger.warn(`invite-ledger: the seat of user ${user.id} was released before its sign-up committed; the invite's role is withdrawn`);
          return;
        }
        logger.error("invite-ledger: confirming a reserved seat failed; the ledger will settle it", error);
      }
      if (plugin.options.onInvitationUsed) {
        try {
          await plugin.options.onInvitationUsed({ invitedUser: user as InviteUser, newUser: user as InviteUser, newAccount: true }, ctx?.request);
        } catch (error) {
          logger.error("Error in onInvitationUsed hook", error);
        }
      }
    };
    // Awaited, unless the app runs background tasks (`advanced.backgroundTasks`): an
    // unconfirmed seat is settled by the ledger anyway (it asks whether the user exists).
    if (ctx?.context.runInBackgroundOrAwait) await ctx.context.runInBackgroundOrAwait(confirm());
    else await confirm();
  };
}

/** The after-hook on better-invite's paths. */
export function afterSignIn(plugin: PluginContext) {
  return {
    matcher: (context: { path?: string }) => SIGN_IN_PATHS.has(context.path ?? ""),
    handler: createAuthMiddleware(async (ctx) => {
      const newSession = ctx.context.newSession as { session: any; user: InviteUser } | null | undefined;
      const userId = newSession?.user?.id;
      if (!userId) return;
      const options = plugin.options;

      // A user this request created: the seat was reserved before the write.
      const reservation = plugin.reservations.get(userId);
      const refused = plugin.refusals.get(userId);
      plugin.reservations.delete(userId);
      plugin.refusals.delete(userId);
      if (refused) {
        expireInviteCookie(ctx, plugin);
        const returned = ctx.context.returned;
        if (returned && typeof returned === "object" && !(returned instanceof Response) && !(returned instanceof APIError)) {
          return ctx.json({ ...(returned as object), invite: { used: false, code: refused.code, message: refused.message } });
        }
        return;
      }
      if (reservation) {
        expireInviteCookie(ctx, plugin);
        await options.inviteHooks?.afterAcceptInvite?.({
          ctx,
          invitation: { ...reservation.invite, role: reservation.role } as LedgerInvite,
          invitedUser: newSession.user,
        });
        return ctx.redirect(redirectURL(ctx, reservation.redirectToAfterUpgrade?.replace("{token}", reservation.token)));
      }

      // A user who already existed: record the use, then write the role.
      const token = await heldToken(ctx, plugin);
      if (!token) return;
      if (await awaitsSecondFactor(ctx, newSession.user)) return;
      let invitedUser = ((await ctx.context.internalAdapter.findUserById(userId)) ?? newSession.user) as InviteUser;
      const before = await options.inviteHooks?.beforeAcceptInvite?.({ ctx, invitedUser });
      if (before && before.user) invitedUser = before.user;
      // better-invite passes `newAccount: true` on these paths, for new and existing users alike.
      if (!(await allowed(ctx, options.canAcceptInvite, { invitedUser, newAccount: true }))) {
        throw APIError.from("BAD_REQUEST", ERROR_CODES.CANT_ACCEPT_INVITE);
      }
      let answer: any;
      try {
        answer = await plugin.ledger.call(
          "invite/use",
          { actor: actorOf(invitedUser), token },
          keyOf("use", userId, token),
        );
      } catch (error) {
        // This user's use of this invite was recorded already (e.g. before a crash):
        // the key under another body (their role has changed since), or the ledger's
        // one-use-per-person rule. Its role reaches the row through the ledger's
        // repair; only the cookie is left.
        const recorded = ["IDEMPOTENCY_KEY_REUSED", "INVITE_ALREADY_USED_BY_USER"];
        if (!(error instanceof LedgerRefusal && recorded.includes(error.code))) {
          throw toAPIError(error, { usedUp: "NO_USES_LEFT_FOR_INVITE" });
        }
        answer = { role: invitedUser.role, position: null };
      }
      await landUse(ctx, plugin, { session: newSession.session, user: invitedUser }, answer, true);
      expireInviteCookie(ctx, plugin);
      const invitation = (answer?.invitation ?? answer?.terms ?? { role: answer.role }) as LedgerInvite;
      await options.inviteHooks?.afterAcceptInvite?.({ ctx, invitation, invitedUser });
      const target = answer?.redirectToAfterUpgrade ?? invitation.redirectToAfterUpgrade ?? options.defaultRedirectAfterUpgrade;
      return ctx.redirect(redirectURL(ctx, target?.replace("{token}", token)));
    }),
  };
}

/**
 * `/admin/set-role` (the admin plugin): the ledger decides an admin's role change by
 * its own rule and records it; the role is written compare-and-set on the decision's
 * position, then the admin plugin's endpoint writes the same role as usual.
 */
export function beforeSetRole(plugin: PluginContext) {
  return {
    matcher: (context: { path?: string }) => context.path === "/admin/set-role",
    handler: createAuthMiddleware(async (ctx) => {
      const session = await getSessionFromCtx(ctx);
      const body = (ctx.body ?? {}) as { userId?: unknown; role?: unknown };
      const role = Array.isArray(body.role) ? body.role.join(",") : body.role;
      if (!session || typeof body.userId !== "string" || typeof role !== "string") return; // the endpoint refuses
      const target = await ctx.context.internalAdapter.findUserById(body.userId);
      if (!target) return;
      let decision: any;
      try {
        decision = await plugin.ledger.call("user/set-role", {
          actor: actorOf(session.user as unknown as InviteUser),
          user: actorOf(target as unknown as InviteUser),
          role,
        });
      } catch (error) {
        throw toAPIError(error);
      }
      await applyRole(ctx.context, body.userId, decision.role, decision.position);
    }),
  };
}
