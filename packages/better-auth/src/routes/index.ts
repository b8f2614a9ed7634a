// better-invite 0.5.7's routes, same paths, bodies and answers, and the ledger's
// `/invite/create-many`; every decision is the ledger's, asked in the name of the
// acting Better Auth user.
export { activateInvite, activateInviteCallback } from "./activate.js";
export { createInvite } from "./create.js";
export { createManyInvites } from "./create-many.js";
export { cancelInvite, rejectInvite } from "./decide.js";
export { getInvite, listInvites } from "./read.js";
export { expireInviteCookie, inviteCookie, INVITE_COOKIE_NAME, landUse, redirectURL } from "./shared.js";
