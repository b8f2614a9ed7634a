// `POST /invite/create-many`: many private invites in one call, as the standalone
// ledger's `invite/create-many` takes and answers them. Each row is checked as
// `/invite/create` would check it (its body, `canCreateInvite`, then the ledger's
// rules), and each created invite is mailed through `sendUserInvitation`.
import { createAuthEndpoint, sessionMiddleware } from "better-auth/api";
import * as z from "zod";

import type { PluginContext } from "../context.js";
import { actorOf, keyOf } from "../context.js";
import type { Refusal } from "../errors.js";
import { ERROR_CODES, refusalOf, refuse, toAPIError } from "../errors.js";
import type { InviteUser, LedgerInvite } from "../options.js";
import { createInviteBody } from "./create.js";
import { allowed, inviteLink } from "./shared.js";

// create's options, shared by every row; `email` and `role` are per row, and
// `senderResponse` has no meaning here (the tokens go by email).
const createManyBody = createInviteBody.omit({ role: true, email: true, senderResponse: true }).extend({
  invites: z
    .array(
      z.object({
        // Any text: an address that is not one is a refused row, not a refused call.
        email: z.string().describe("The email to send the invitation to"),
        role: z.string().describe("The role to give the invited user"),
        name: z.string().optional().describe("The invited person's name, for the ledger's records"),
      }),
    )
    .describe("One invite a row; each row is created or refused on its own"),
});

type Row = z.infer<typeof createManyBody>["invites"][number];

/** One row of the answer: created with its `inviteId`, or refused with what `/invite/create` would give. */
export type CreateManyRow = { row: number; email: string; created: boolean; inviteId?: string; error?: Refusal };

/** What the ledger answers for one row it was given (with the token the plugin mails). */
type LedgerRow = { row: number; email: string | null; created: boolean; inviteId?: string; token?: string; error?: { code: string; message: string } };

/** The refusal `/invite/create` would give for this row's body, as Better Auth words a body that does not validate. */
async function bodyRefusal(row: Row): Promise<Refusal | null> {
  const result = await createInviteBody["~standard"].validate({ role: row.role, email: row.email });
  if (!result.issues) return null;
  const where = (path: readonly unknown[] | undefined) =>
    path?.length ? `body.${path.map((part: any) => (typeof part === "object" ? part.key : part)).join(".")}` : "body";
  return { code: "VALIDATION_ERROR", message: result.issues.map((issue) => `[${where(issue.path)}] ${issue.message}`).join("; ") };
}

export const createManyInvites = (plugin: PluginContext) =>
  createAuthEndpoint(
    "/invite/create-many",
    {
      method: "POST",
      body: createManyBody,
      use: [sessionMiddleware],
      metadata: {
        openapi: { operationId: "createManyInvitations", description: "Create many private invitations in one call (decided by invite-ledger)" },
      },
    },
    async (ctx) => {
      const options = plugin.options;
      const inviter = ctx.context.session.user as unknown as InviteUser;
      const body = ctx.body;
      if (!options.sendUserInvitation) {
        ctx.context.logger.warn("Invitation email is not enabled. Pass `sendUserInvitation` to the plugin options to enable it.");
        refuse("INTERNAL_SERVER_ERROR", "INVITATION_EMAIL_NOT_ENABLED");
      }
      const redirectToSignUp = body.redirectToSignUp ?? options.defaultRedirectToSignUp;
      const redirectToSignIn = body.redirectToSignIn ?? options.defaultRedirectToSignIn;
      const customInviteUrl = body.customInviteUrl ?? options.defaultCustomInviteUrl;
      const terms = {
        tokenType: body.tokenType ?? options.defaultTokenType,
        redirectToSignUp,
        redirectToSignIn,
        maxUses: body.maxUses ?? options.defaultMaxUses,
        expiresIn: body.expiresIn ?? options.invitationTokenExpiresIn,
        redirectToAfterUpgrade: body.redirectToAfterUpgrade ?? options.defaultRedirectAfterUpgrade,
        shareInviterName: body.shareInviterName ?? options.defaultShareInviterName,
      };

      // The plugin's own checks, row by row, as `/invite/create` makes them.
      const answers: CreateManyRow[] = [];
      const toLedger: { at: number; row: Row; name?: string; newAccount: boolean }[] = [];
      for (const [i, row] of body.invites.entries()) {
        const refused =
          (await bodyRefusal(row)) ??
          ((await allowed(ctx, options.canCreateInvite, { invitedUser: { email: row.email, role: row.role }, inviterUser: inviter, ctx }))
            ? null
            : ERROR_CODES.INSUFFICIENT_PERMISSIONS);
        answers.push({ row: i + 1, email: row.email, created: false, ...(refused ? { error: { ...refused } } : {}) });
        if (refused) continue;
        const invited = await ctx.context.internalAdapter.findUserByEmail(row.email);
        toLedger.push({ at: i, row, name: invited?.user.name, newAccount: !invited });
      }
      await options.inviteHooks?.beforeCreateInvite?.({ ctx });

      // The ledger checks the rest (roles, quotas, limits) and draws the tokens. With no
      // row left, an empty call still asks it, for its refusal of an empty call.
      let ledgerRows: LedgerRow[] = [];
      if (toLedger.length > 0 || body.invites.length === 0) {
        const requestKey = ctx.request?.headers.get("idempotency-key");
        const key = requestKey ? keyOf("create-many", inviter.id, requestKey) : undefined;
        try {
          const answer = await plugin.ledger.call<{ invites: LedgerRow[] }>(
            "invite/create-many",
            {
              actor: actorOf(inviter),
              ...terms,
              senderResponseRedirect: body.senderResponseRedirect ?? options.defaultSenderResponseRedirect,
              invites: toLedger.map(({ row, newAccount }) => ({ ...row, newAccount })),
              delivery: "plugin",
            },
            key,
          );
          ledgerRows = answer.invites;
        } catch (error) {
          throw toAPIError(error);
        }
      }

      const invitations: LedgerInvite[] = [];
      let mailFailed = false;
      for (const [j, sent] of toLedger.entries()) {
        const decided = ledgerRows[j];
        const answer = answers[sent.at]!;
        if (!decided?.created || !decided.token) {
          const error = decided?.error ?? { code: "INVITATION_NOT_CREATED", message: ERROR_CODES.INVITATION_NOT_CREATED.message };
          answer.error = refusalOf(error.code, error.message);
          continue;
        }
        answer.created = true;
        answer.inviteId = decided.inviteId;
        invitations.push({ ...terms, role: sent.row.role, email: sent.row.email, emails: [sent.row.email], inviteId: decided.inviteId, token: decided.token });
        const url = inviteLink(ctx, decided.token, sent.newAccount ? redirectToSignUp : redirectToSignIn, customInviteUrl);
        try {
          await options.sendUserInvitation!(
            { email: sent.row.email, name: sent.name, role: sent.row.role, url: url.toString(), token: decided.token, newAccount: sent.newAccount },
            ctx.request,
          );
        } catch (error) {
          ctx.context.logger.error("Error sending the invitation email: ", error);
          mailFailed = true;
        }
      }
      // As `/invite/create`: an invite whose email was not sent is an error. Every other
      // email went; a retry under the same Idempotency-Key creates nothing more.
      if (mailFailed) refuse("INTERNAL_SERVER_ERROR", "ERROR_SENDING_THE_INVITATION_EMAIL");
      await options.inviteHooks?.afterCreateInvite?.({ ctx, invitations });
      const created = answers.filter((row) => row.created).length;
      return ctx.json({ status: true, created, refused: answers.length - created, invites: answers });
    },
  );
