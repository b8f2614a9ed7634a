// Compiled by `tsc --noEmit` only: the client and server APIs are typed as better-invite's.
import { betterAuth } from "better-auth";
import { createAuthClient } from "better-auth/client";
import { admin } from "better-auth/plugins";

import { inviteLedger } from "../src/index.js";
import { inviteLedgerClient } from "../src/client.js";

const authClient = createAuthClient({ baseURL: "http://localhost:3000", plugins: [inviteLedgerClient()] });

export async function frontEnd() {
  const created = await authClient.invite.create({ role: "user", senderResponse: "token", maxUses: 5 });
  const token: string | undefined = created.data?.message;
  await authClient.invite.activate({ token: token ?? "", callbackURL: "/auth/sign-up" });
  await authClient.invite.get({ query: { token: token ?? "" } });
  await authClient.invite.cancel({ token: token ?? "" });
  await authClient.invite.reject({ token: token ?? "" });
  await authClient.invite.list({ query: { limit: 10 } });
  // @ts-expect-error `role` is required, as in better-invite
  await authClient.invite.create({ email: "a@example.com" });

  // Beyond better-invite: many private invites, each row created or refused.
  const many = await authClient.invite.createMany({
    invites: [{ email: "a@example.com", role: "user", name: "A" }, { email: "b@example.com", role: "admin" }],
    expiresIn: 86400,
  });
  const rows: { row: number; email: string; created: boolean; inviteId?: string; error?: { code: string; message: string } }[] =
    many.data?.invites ?? [];
  const counts: [number, number] | undefined = many.data ? [many.data.created, many.data.refused] : undefined;
  void [rows, counts];
  // @ts-expect-error each row needs its `role`
  await authClient.invite.createMany({ invites: [{ email: "a@example.com" }] });
}

export const auth = betterAuth({
  plugins: [
    admin(),
    inviteLedger({
      ledgerUrl: "http://localhost:8080",
      apiKey: "ilk_example",
      defaultRedirectAfterUpgrade: "/auth/invited",
      canCreateInvite: ({ inviterUser }) => inviterUser.role === "admin",
      sendUserInvitation: async ({ email, url }) => void [email, url],
    }),
  ],
});

export async function server(headers: Headers) {
  const answer: { status: boolean; message: string } = await auth.api.createInvite({ body: { role: "user" }, headers });
  return answer;
}
