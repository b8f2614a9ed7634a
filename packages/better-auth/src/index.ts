// `inviteLedger(options)`: better-invite's server plugin (id "invite"), whose invites
// live in invite-ledger. Swap `invite(...)` for `inviteLedger({...same options, ledgerUrl, apiKey})`.
import type { BetterAuthPlugin } from "better-auth";

import { PluginContext } from "./context.js";
import { ERROR_CODES } from "./errors.js";
import { afterSignIn, afterUserCreate, beforeSetRole, beforeUserCreate } from "./hooks.js";
import type { InviteLedgerOptions } from "./options.js";
import { POSITION_FIELD } from "./roles.js";
import {
  activateInvite,
  activateInviteCallback,
  cancelInvite,
  createInvite,
  createManyInvites,
  getInvite,
  listInvites,
  rejectInvite,
} from "./routes/index.js";
import { ledgerSync } from "./sync.js";

export const inviteLedger = (options: InviteLedgerOptions) => {
  const plugin = new PluginContext(options);
  return {
    id: "invite",
    init(context) {
      plugin.setBaseURL(context.baseURL);
      return {
        options: {
          databaseHooks: {
            user: { create: { before: beforeUserCreate(plugin), after: afterUserCreate(plugin) } },
          },
        },
      };
    },
    endpoints: {
      createInvite: createInvite(plugin),
      createManyInvites: createManyInvites(plugin),
      activateInvite: activateInvite(plugin),
      activateInviteCallback: activateInviteCallback(plugin),
      cancelInvite: cancelInvite(plugin),
      getInvite: getInvite(plugin),
      rejectInvite: rejectInvite(plugin),
      listInvites: listInvites(plugin),
      inviteLedgerSync: ledgerSync(plugin),
    },
    hooks: { before: [beforeSetRole(plugin)], after: [afterSignIn(plugin)] },
    // The log position of the role last written from the ledger (compare-and-set).
    schema: {
      user: { fields: { [POSITION_FIELD]: { type: "string", required: false, input: false, returned: false } } },
    },
    $ERROR_CODES: ERROR_CODES,
  } satisfies BetterAuthPlugin;
};

export { ERROR_CODES } from "./errors.js";
export {
  inviteLedgerOrganization,
  ledgerOrganizationHooks,
  OrganizationRecorder,
  reconcileOrganizations,
} from "./organization.js";
export type { Fact, LedgerOrganizationOptions, MissingFact, ReconcileReport } from "./organization.js";
export { verifySignature, SIGNATURE_HEADER } from "./sync.js";
export type { InviteLedgerOptions, InviteUser, LedgerInvite } from "./options.js";
