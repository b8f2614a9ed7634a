// `GET /invite/get` and `GET /invite/list`: what the ledger says, in better-invite's shape.
import { createAuthEndpoint, sessionMiddleware } from "better-auth/api";
import * as z from "zod";

import type { PluginContext } from "../context.js";
import { actorOf, sessionOf } from "../context.js";
import { refuse, toAPIError } from "../errors.js";
import { termsOf } from "./shared.js";

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
