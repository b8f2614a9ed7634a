// The invite plugin's client side, for `createAuthClient({ plugins: [inviteClient()] })`.
//
// `better-auth-invite-plugin` is not on the npm registry, so it cannot be installed here.
// Its published client plugin is only an id (plus server types for TypeScript):
// every `authClient.invite.*` call goes through Better Auth's path proxy, which maps
// `invite.create(body)` to `POST /invite/create` (a call with a body is a POST) and
// `invite.get({ query })` to `GET /invite/get?...` (a call without one is a GET).
// This is the same plugin, without the types, so the client behaves exactly as the
// real one does.
export const inviteClient = () => ({
  id: "invite",
  $InferServerPlugin: {},
});
