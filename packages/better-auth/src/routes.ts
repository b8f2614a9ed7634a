// better-invite 0.5.7's routes, same paths, bodies and answers; every decision is the
// ledger's, asked in the name of the acting Better Auth user.
import type { GenericEndpointContext } from "better-auth";
import { generateId } from "better-auth";
import { APIError, createAuthEndpoint, originCheck, sessionMiddleware } from "better-auth/api";
import { setSessionCookie } from "better-auth/cookies";
import * as z from "zod";

import type { PluginContext } from "./context.js";
import { actorOf, keyOf, sessionOf } from "./context.js";
import { ERROR_CODES, refuse, toAPIError } from "./errors.js";
import type { InviteUser, LedgerInvite, Permissions } from "./options.js";
import { applyRole } from "./roles.js";

export const INVITE_COOKIE_NAME = "invite_token";

export const inviteCookie = (ctx: GenericEndpointContext, plugin: PluginContext) =>
  ctx.context.createAuthCookie(INVITE_COOKIE_NAME, { maxAge: plugin.options.inviteCookieMaxAge });

/** A decision the ledger made about a use: the role and where in the log it stands. */
type Use = { role: string; position: string | number };

/** better-invite's option forms: a boolean, a function, or an admin-plugin permission check. */
async function allowed<T>(
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
function inviteLink(ctx: GenericEndpointContext, token: string, callbackURL: string, customInviteUrl?: string) {
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
function termsOf(answer: any): LedgerInvite {
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

const createInviteBody = z.object({
  role: z.string().describe("The role to give the invited user"),
  email: z.union([z.email(), z.array(z.email())]).optional().describe("The email (or emails) to send an invitation to"),
  tokenType: z.enum(["token", "code", "custom"]).optional(),
  redirectToSignUp: z.string().optional(),
  redirectToSignIn: z.string().optional(),
  maxUses: z.number().optional(),
  expiresIn: z.number().optional(),
  redirectToAfterUpgrade: z.string().optional(),
  shareInviterName: z.boolean().optional(),
  senderResponse: z.enum(["token", "url"]).optional(),
  senderResponseRedirect: z.enum(["signUp", "signIn"]).optional(),
  customInviteUrl: z.string().optional(),
});

export const createInvite = (plugin: PluginContext) =>
  createAuthEndpoint(
    "/invite/create",
    {
      method: "POST",
      body: createInviteBody,
      use: [sessionMiddleware],
      metadata: { openapi: { operationId: "createInvitation", description: "Create an invitation (decided by invite-ledger)" } },
    },
    async (ctx) => {
      const options = plugin.options;
      const inviter = ctx.context.session.user as unknown as InviteUser;
      const body = ctx.body;
      const tokenType = body.tokenType ?? options.defaultTokenType;
      const redirectToSignUp = body.redirectToSignUp ?? options.defaultRedirectToSignUp;
      const redirectToSignIn = body.redirectToSignIn ?? options.defaultRedirectToSignIn;
      const senderResponse = body.senderResponse ?? options.defaultSenderResponse;
      const senderResponseRedirect = body.senderResponseRedirect ?? options.defaultSenderResponseRedirect;
      const customInviteUrl = body.customInviteUrl ?? options.defaultCustomInviteUrl;
      const emails = body.email === undefined ? [] : Array.isArray(body.email) ? body.email : [body.email];
      const isPrivate = emails.length > 0;

      if (isPrivate && !options.sendUserInvitation) {
        ctx.context.logger.warn("Invitation email is not enabled. Pass `sendUserInvitation` to the plugin options to enable it.");
        refuse("INTERNAL_SERVER_ERROR", "INVITATION_EMAIL_NOT_ENABLED");
      }
      const mayCreate = await allowed(ctx, options.canCreateInvite, {
        invitedUser: { email: body.email, role: body.role },
        inviterUser: inviter,
        ctx,
      });
      if (!mayCreate) refuse("BAD_REQUEST", "INSUFFICIENT_PERMISSIONS");
      await options.inviteHooks?.beforeCreateInvite?.({ ctx });

      const terms = {
        role: body.role,
        tokenType,
        redirectToSignUp,
        redirectToSignIn,
        maxUses: body.maxUses ?? options.defaultMaxUses,
        expiresIn: body.expiresIn ?? options.invitationTokenExpiresIn,
        redirectToAfterUpgrade: body.redirectToAfterUpgrade ?? options.defaultRedirectAfterUpgrade,
        shareInviterName: body.shareInviterName ?? options.defaultShareInviterName,
      };
      // A retried request (same inviter, same body, same Idempotency-Key from the
      // browser) creates one invite; without a key each request is its own command.
      const requestKey = ctx.request?.headers.get("idempotency-key");
      const invitations: LedgerInvite[] = [];
      for (const email of isPrivate ? emails : [undefined]) {
        const token = tokenType === "custom" && options.generateToken ? options.generateToken() : undefined;
        const key = requestKey ? keyOf("create", inviter.id, requestKey, email ?? "") : undefined;
        const invited = email ? await ctx.context.internalAdapter.findUserByEmail(email) : null;
        const newAccount = !invited;
        let created: any;
        try {
          created = await plugin.ledger.call(
            "invite/create",
            {
              actor: actorOf(inviter),
              ...terms,
              senderResponseRedirect,
              email,
              token,
              newAccount: email ? newAccount : undefined,
              delivery: "plugin",
            },
            key,
          );
        } catch (error) {
          throw toAPIError(error);
        }
        const invitation = { ...terms, email: email ?? null, emails: email ? [email] : [], ...termsOf(created), token: created?.token } as LedgerInvite;
        invitations.push(invitation);
        if (email) {
          const url = inviteLink(ctx, created.token, newAccount ? redirectToSignUp : redirectToSignIn, customInviteUrl);
          try {
            await options.sendUserInvitation!(
              { email, name: invited?.user.name, role: body.role, url: url.toString(), token: created.token, newAccount },
              ctx.request,
            );
          } catch (error) {
            ctx.context.logger.error("Error sending the invitation email: ", error);
            refuse("INTERNAL_SERVER_ERROR", "ERROR_SENDING_THE_INVITATION_EMAIL");
          }
        }
      }
      await options.inviteHooks?.afterCreateInvite?.({ ctx, invitations });
      if (isPrivate) {
        return ctx.json({ status: true, message: emails.length === 1 ? "The invitation was sent" : "The invitations were sent" });
      }
      const invitation = invitations[0];
      if (!invitation?.token) refuse("INTERNAL_SERVER_ERROR", "INVITATION_NOT_CREATED");
      const token = invitation.token as string;
      const message =
        senderResponse === "token"
          ? token
          : inviteLink(ctx, token, senderResponseRedirect === "signUp" ? redirectToSignUp : redirectToSignIn, customInviteUrl).toString();
      return ctx.json({ status: true, message });
    },
  );

/** Activation: a visitor gets the invite cookie; a signed-in user uses the invite at once. */
async function activate(
  ctx: GenericEndpointContext,
  plugin: PluginContext,
  token: string,
  callbackURL: string | undefined,
  consumeForSignedIn: boolean,
) {
  const options = plugin.options;
  const session = consumeForSignedIn ? await sessionOf(ctx) : null;
  let user = (session?.user as unknown as InviteUser) ?? null;
  if (session && user) {
    const before = await options.inviteHooks?.beforeAcceptInvite?.({ ctx, invitedUser: user });
    if (before && before.user) user = before.user;
    const mayAccept = await allowed(ctx, options.canAcceptInvite, { invitedUser: user, newAccount: false });
    if (!mayAccept) refuse("BAD_REQUEST", "CANT_ACCEPT_INVITE");
  }
  let answer: any;
  try {
    answer = await plugin.ledger.call(
      "invite/activate",
      { actor: actorOf(user), token },
      user ? keyOf("activate", user.id, token) : undefined,
    );
  } catch (error) {
    throw toAPIError(error, { usedUp: "INVITE_TOKEN_HAS_ALREADY_BEEN_USED" });
  }
  const invitation = termsOf(answer);
  if (session && user && answer?.use) {
    await landUse(ctx, plugin, { session: session.session, user }, answer.use, false);
    await options.inviteHooks?.afterAcceptInvite?.({ ctx, invitation, invitedUser: user });
    expireInviteCookie(ctx, plugin);
    const target = answer.redirectTo ?? invitation.redirectToAfterUpgrade ?? options.defaultRedirectAfterUpgrade;
    return {
      status: true,
      message: "Invite activated successfully",
      action: "REDIRECT_TO_AFTER_UPGRADE" as const,
      redirectTo: target?.replace("{token}", token),
    };
  }
  const cookie = inviteCookie(ctx, plugin);
  await ctx.setSignedCookie(cookie.name, token, ctx.context.secret, cookie.attributes);
  return {
    status: true,
    message: "Please sign in or sign up to continue.",
    action: "SIGN_IN_UP_REQUIRED" as const,
    redirectTo: callbackURL ?? options.defaultRedirectToSignIn,
  };
}

export function expireInviteCookie(ctx: GenericEndpointContext, plugin: PluginContext) {
  const cookie = inviteCookie(ctx, plugin);
  ctx.setCookie(cookie.name, "", { ...cookie.attributes, maxAge: 0 });
}

export const activateInvite = (plugin: PluginContext) =>
  createAuthEndpoint(
    "/invite/activate",
    {
      method: "POST",
      use: [originCheck((ctx) => ctx.body.callbackURL)],
      body: z.object({
        callbackURL: z.string().describe("Where to redirect the user after sign in/up").optional(),
        // Optional here (required by better-invite): without it, the cookie a link set.
        token: z.string().describe("The invite token").optional(),
      }),
      metadata: { openapi: { operationId: "activateInvite", description: "Activate an invitation" } },
    },
    async (ctx) => {
      const token = ctx.body.token ?? (await ctx.getSignedCookie(inviteCookie(ctx, plugin).name, ctx.context.secret));
      if (!token) refuse("BAD_REQUEST", "INVALID_TOKEN");
      return ctx.json(await activate(ctx, plugin, token as string, ctx.body.callbackURL, true));
    },
  );

/**
 * The link in emails and `senderResponse: "url"`. A GET never uses an invite (a link
 * prefetched by a mail scanner must not change anyone's role): it only checks it, sets
 * the cookie and redirects; the next sign-in, sign-up or `POST /invite/activate` uses it.
 */
export const activateInviteCallback = (plugin: PluginContext) =>
  createAuthEndpoint(
    "/invite/:token",
    {
      method: "GET",
      use: [originCheck((ctx) => ctx.query.callbackURL)],
      query: z.object({ callbackURL: z.string().describe("Where to redirect the user after sign in/up").optional() }),
      metadata: { openapi: { operationId: "activateInviteCallback", description: "Follow an invitation link" } },
    },
    async (ctx) => {
      let answer;
      try {
        answer = await activate(ctx, plugin, ctx.params.token, ctx.query.callbackURL, false);
      } catch (error: any) {
        const code = error?.body?.code ?? "SERVER_ERROR";
        const message = error?.body?.message ?? "Internal server error";
        throw ctx.redirect(redirectURL(ctx, ctx.query.callbackURL, { message, error: code }));
      }
      throw ctx.redirect(redirectURL(ctx, answer.redirectTo ?? plugin.options.defaultRedirectToSignIn));
    },
  );

export const getInvite = (plugin: PluginContext) =>
  createAuthEndpoint(
    "/invite/get",
    {
      method: "GET",
      query: z.object({ token: z.string().describe("The invite token to look up.") }),
      metadata: { openapi: { operationId: "getInvite", description: "What an invitation offers, and who sent it" } },
    },
    async (ctx) => {
      const session = await sessionOf(ctx);
      let answer: any;
      try {
        answer = await plugin.ledger.call("invite/get", { actor: actorOf(session?.user as any), token: ctx.query.token });
      } catch (error) {
        throw toAPIError(error);
      }
      const invitation = termsOf(answer);
      // As better-invite: a private invite is shown only to its invitee.
      const viewerEmail = session?.user.email?.toLowerCase();
      if (invitation.private && (!viewerEmail || invitation.email?.toLowerCase() !== viewerEmail)) {
        refuse("BAD_REQUEST", "INVALID_TOKEN");
      }
      const emails = (invitation.emails as string[] | undefined) ?? (invitation.email ? [invitation.email] : []);
      let inviter = answer?.inviter ?? { email: null, name: null, image: null };
      const inviterId = (invitation.inviterId ?? invitation.createdByUserId) as string | undefined;
      if (inviterId && (inviter.email || inviter.name)) {
        const local = await ctx.context.internalAdapter.findUserById(inviterId);
        if (local) inviter = { ...inviter, image: local.image ?? null };
      }
      return ctx.json({
        status: true,
        inviter: { email: inviter.email ?? null, name: inviter.name ?? null, image: inviter.image ?? null },
        invitation: { ...invitation, email: invitation.email ?? emails[0] ?? null, emails },
      });
    },
  );

export const listInvites = (plugin: PluginContext) =>
  createAuthEndpoint(
    "/invite/list",
    {
      method: "GET",
      use: [sessionMiddleware],
      query: z.object({
        searchValue: z.string().optional(),
        searchField: z.enum(["name", "email", "domainWhitelist"]).optional(),
        searchOperator: z.enum(["contains", "starts_with", "ends_with"]).optional(),
        limit: z.coerce.number().int().optional(),
        offset: z.coerce.number().int().optional(),
        sortBy: z.string().optional(),
        sortDirection: z.enum(["asc", "desc"]).optional(),
        filterField: z.string().optional(),
        filterValue: z.string().or(z.number()).or(z.boolean()).optional(),
        filterOperator: z.enum(["eq", "ne", "lt", "lte", "gt", "gte"]).optional(),
      }),
      metadata: { openapi: { operationId: "listInvites", description: "The invitations the current user created" } },
    },
    async (ctx) => {
      let answer: any;
      try {
        // The ledger lists the actor's invites; better-invite's email search is its `emailContains`.
        const query = ctx.query ?? {};
        const searchesEmail = query.searchValue && (!query.searchField || query.searchField === "email");
        answer = await plugin.ledger.call("invite/list", {
          actor: actorOf(ctx.context.session.user as any),
          limit: query.limit,
          offset: query.offset,
          emailContains: searchesEmail ? query.searchValue : undefined,
        });
      } catch (error) {
        throw toAPIError(error);
      }
      const limit = Number(ctx.query?.limit) || undefined;
      const offset = Number(ctx.query?.offset) || undefined;
      // better-invite's row fields beside the ledger's (tokens are not kept: only their hashes).
      const invitations = (answer?.invitations ?? []).map((invitation: any) => ({
        ...invitation,
        createdByUserId: invitation.inviterId ?? null,
        emails: invitation.email ? [invitation.email] : null,
      }));
      return ctx.json({
        total: answer?.total ?? invitations.length,
        invitations,
        limit,
        offset,
      });
    },
  );

/** Cancel (the inviter) or reject (the invitee): the ledger checks who may. */
const decide = (plugin: PluginContext, kind: "cancel" | "reject") =>
  createAuthEndpoint(
    `/invite/${kind}`,
    {
      method: "POST",
      use: [sessionMiddleware],
      body: z.object({ token: z.string().describe(`The invite token to ${kind}.`) }),
      metadata: { openapi: { operationId: `${kind}Invite`, description: `${kind === "cancel" ? "Cancel" : "Reject"} an invitation` } },
    },
    async (ctx) => {
      const options = plugin.options;
      const user = ctx.context.session.user as unknown as InviteUser;
      const actor = actorOf(user);
      const { token } = ctx.body;
      const option = kind === "cancel" ? options.canCancelInvite : options.canRejectInvite;
      const hooks = options.inviteHooks;
      const before = kind === "cancel" ? hooks?.beforeCancelInvite : hooks?.beforeRejectInvite;
      const after = kind === "cancel" ? hooks?.afterCancelInvite : hooks?.afterRejectInvite;
      // The invite is looked up only for the app's own callbacks that need it.
      let invitation: LedgerInvite = { token } as LedgerInvite;
      if (typeof option !== "boolean" || before || after) {
        try {
          invitation = { ...termsOf(await plugin.ledger.call("invite/get", { actor, token })), token };
        } catch (error) {
          throw toAPIError(error);
        }
      }
      const data = kind === "cancel" ? { inviterUser: user, invitation, ctx } : { inviteeUser: user, invitation, ctx };
      if (!(await allowed(ctx, option as any, data))) {
        refuse("BAD_REQUEST", kind === "cancel" ? "INSUFFICIENT_PERMISSIONS" : "CANT_REJECT_INVITE");
      }
      await before?.({ ctx, invitation });
      try {
        await plugin.ledger.call(`invite/${kind}`, { actor, token }, keyOf(kind, user.id, token));
      } catch (error) {
        throw toAPIError(error);
      }
      await after?.({ ctx, invitation });
      return ctx.json({ status: true, message: kind === "cancel" ? "Invite cancelled successfully" : "Invite rejected successfully" });
    },
  );

export const cancelInvite = (plugin: PluginContext) => decide(plugin, "cancel");
export const rejectInvite = (plugin: PluginContext) => decide(plugin, "reject");

export { generateId };
