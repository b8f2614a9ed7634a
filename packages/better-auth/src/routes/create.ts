// `POST /invite/create`: better-invite's body and answer; the ledger creates the invite.
import { createAuthEndpoint, sessionMiddleware } from "better-auth/api";
import * as z from "zod";

import type { PluginContext } from "../context.js";
import { actorOf, keyOf } from "../context.js";
import { refuse, toAPIError } from "../errors.js";
import type { InviteUser, LedgerInvite } from "../options.js";
import { allowed, inviteLink, termsOf } from "./shared.js";

export const createInviteBody = z.object({
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
