// `POST /invite/cancel` and `POST /invite/reject`.
import { createAuthEndpoint, sessionMiddleware } from "better-auth/api";
import * as z from "zod";

import type { PluginContext } from "../context.js";
import { actorOf, keyOf } from "../context.js";
import { refuse, toAPIError } from "../errors.js";
import type { InviteUser, LedgerInvite } from "../options.js";
import { allowed, termsOf } from "./shared.js";

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
