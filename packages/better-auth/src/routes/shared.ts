// What the invite routes and hooks share: the invite cookie, better-invite's
// permission options, links and redirects, and landing a use's role.
import type { GenericEndpointContext } from "better-auth";
import { APIError } from "better-auth/api";
import { setSessionCookie } from "better-auth/cookies";

import type { PluginContext } from "../context.js";
import { sessionOf } from "../context.js";
import { ERROR_CODES } from "../errors.js";
import type { InviteUser, LedgerInvite, Permissions } from "../options.js";
import { applyRole } from "../roles.js";

export const INVITE_COOKIE_NAME = "invite_token";

export const inviteCookie = (ctx: GenericEndpointContext, plugin: PluginContext) =>
  ctx.context.createAuthCookie(INVITE_COOKIE_NAME, { maxAge: plugin.options.inviteCookieMaxAge });

/** A decision the ledger made about a use: the role and where in the log it stands. */
export type Use = { role: string; position: string | number };

/** better-invite's option forms: a boolean, a function, or an admin-plugin permission check. */
export async function allowed<T>(
  ctx: GenericEndpointContext,
  option: boolean | Permissions | ((data: T) => unknown),
  data: T,
): Promise<boolean> {
  const value = typeof option === "function" ? await option(data) : option;
  if (value && typeof value === "object") return hasPermission(ctx, value as Permissions);
  return Boolean(value);
}

async function hasPermission(ctx: GenericEndpointContext, permissions: Permissions): Promise<boolean> {
  const session = await sessionOf(ctx);
  if (!session) throw APIError.from("UNAUTHORIZED", { message: "Unauthorized", code: "UNAUTHORIZED" });
  const admin = ctx.context.options.plugins?.find((plugin) => plugin.id === "admin") as any;
  if (!admin) {
    ctx.context.logger.error("Admin plugin is not set-up.");
    throw APIError.from("FAILED_DEPENDENCY", ERROR_CODES.ADMIN_PLUGIN_IS_NOT_SET_UP);
  }
  try {
    const answer = await admin.endpoints.userHasPermission({
      ...ctx,
      body: { userId: session.user.id, permissions: { [permissions.statement]: permissions.permissions } },
      returnHeaders: true,
    });
    return Boolean(answer?.response?.success ?? answer?.success ?? answer);
  } catch {
    return false;
  }
}

/** The link an invitee follows: `GET /invite/:token` below Better Auth's base path. */
export function inviteLink(ctx: GenericEndpointContext, token: string, callbackURL: string, customInviteUrl?: string) {
  const base = new URL(ctx.context.baseURL);
  const pathname = base.pathname === "/" ? "" : base.pathname;
  const basePath = pathname ? "" : ctx.context.options.basePath || "";
  let link = `/invite/${token}?callbackURL=${encodeURIComponent(callbackURL)}`;
  if (customInviteUrl) {
    link = customInviteUrl.replace("{token}", token).replace("{callbackURL}", encodeURIComponent(callbackURL));
  }
  return new URL(`${pathname}${basePath}/${link.startsWith("/") ? link.slice(1) : link}`, base.origin);
}

/** An absolute URL on Better Auth's origin for a redirect (better-invite's shape). */
export function redirectURL(ctx: GenericEndpointContext, target: string | null | undefined, query?: Record<string, string>) {
  const url = target ? new URL(target, ctx.context.baseURL) : new URL(`${ctx.context.baseURL}/error`);
  for (const [key, value] of Object.entries(query ?? {})) url.searchParams.set(key, value);
  return url.href;
}

/** The invite's terms, wherever the ledger's answer carries them. */
export function termsOf(answer: any): LedgerInvite {
  return (answer?.invitation ?? answer?.terms ?? answer?.invite ?? answer ?? {}) as LedgerInvite;
}

/**
 * Writes the role of a use the ledger recorded for a signed-in user, refreshes the
 * session cookie so the browser sees it at once, and runs `onInvitationUsed`.
 */
export async function landUse(
  ctx: GenericEndpointContext,
  plugin: PluginContext,
  session: { session: any; user: InviteUser },
  use: Use,
  newAccount: boolean,
) {
  await applyRole(ctx.context, session.user.id, use.role, use.position);
  const fresh = ((await ctx.context.internalAdapter.findUserById(session.user.id)) ?? session.user) as InviteUser;
  await setSessionCookie(ctx, { session: session.session, user: fresh as any });
  if (plugin.options.onInvitationUsed) {
    try {
      await plugin.options.onInvitationUsed({ invitedUser: session.user, newUser: fresh, newAccount }, ctx.request);
    } catch (error) {
      ctx.context.logger.error("Error in onInvitationUsed hook", error);
    }
  }
  return fresh;
}

export function expireInviteCookie(ctx: GenericEndpointContext, plugin: PluginContext) {
  const cookie = inviteCookie(ctx, plugin);
  ctx.setCookie(cookie.name, "", { ...cookie.attributes, maxAge: 0 });
}
