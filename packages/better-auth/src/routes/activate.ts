// `POST /invite/activate` and the link `GET /invite/:token`.
import type { GenericEndpointContext } from "better-auth";
import { createAuthEndpoint, originCheck } from "better-auth/api";
import * as z from "zod";

import type { PluginContext } from "../context.js";
import { actorOf, keyOf, sessionOf } from "../context.js";
import { refuse, toAPIError } from "../errors.js";
import type { InviteUser } from "../options.js";
import { allowed, expireInviteCookie, inviteCookie, landUse, redirectURL, termsOf } from "./shared.js";

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
      // The role is part of the command: an activation after the role changed is a
      // new decision, not a retry of the one before.
      user ? keyOf("activate", user.id, String(user.role ?? ""), token) : undefined,
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
