// `inviteLedgerClient()`: the client plugin (id "invite"), so `authClient.invite.*` is typed.
import type { BetterAuthClientPlugin } from "better-auth/client";

import type { inviteLedger } from "./index.js";

export const inviteLedgerClient = () =>
  ({
    id: "invite",
    $InferServerPlugin: {} as ReturnType<typeof inviteLedger>,
  }) satisfies BetterAuthClientPlugin;

export type InviteLedgerClientPlugin = ReturnType<typeof inviteLedgerClient>;
