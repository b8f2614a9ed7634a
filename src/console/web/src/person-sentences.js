// A person's own events (their account's history) as sentences: who did what to
// the account, by name. The person is the event's aggregate; `who` names a
// person part and `time` writes a time, as in sentences.js.
import { whose } from "./wording.js";

/** "Ada ended all of Bob's sessions", for each `which` of `SessionsRevoked`. */
const SESSIONS = {
  all: "all of",
  all_but_current: "all but the one in use of",
  one: "one of",
};

/** Each person event's sentence: `(data, person id, who, time)` → parts. */
const TELL = {
  Registered: (d, self, who) => [
    who(self, d.name || d.email),
    ` signed up as ${d.role}${d.emailVerified ? ", their email address already verified" : ""}.`,
  ],
  Introduced: (d, self, who) => [
    who(self, d.name || d.email),
    ` was first recorded from the Better Auth server, as ${d.role}.`,
  ],
  RoleSet: (d, self, who) => [
    who(d.byUserId),
    " changed ",
    ...whose(d.byUserId, self, who),
    ` role from ${d.roleBefore} to ${d.role}.`,
  ],
  PasswordResetRequested: (d, self, who) => [
    "Someone asked for a password reset link for ",
    who(self),
    "; it was emailed to their address.",
  ],
  PasswordSet: (d, self, who) =>
    d.how === "reset"
      ? d.byUserId === self
        ? [who(self), " set a new password with a reset link."]
        : [who(d.byUserId), " set a new password for ", who(self), " with a reset link."]
      : [who(d.byUserId), " changed ", ...whose(d.byUserId, self, who), " password."],
  SessionsRevoked: (d, self, who) => [
    who(d.byUserId),
    ` ended ${SESSIONS[d.which] ?? SESSIONS.all} `,
    ...whose(d.byUserId, self, who),
    " sessions.",
  ],
  ProfileUpdated: (d, self, who) => [
    who(self),
    ` updated their profile: their name is now “${d.name}”${d.image ? ", with a new picture" : ""}.`,
  ],
  VerificationEmailRequested: (d, self, who) =>
    d.purpose === "change_email"
      ? ["A link to confirm a new email address for ", who(self), " was emailed to that address."]
      : ["A link to verify the email address of ", who(self), " was emailed to it."],
  EmailVerified: (d, self, who) => [
    who(d.byUserId),
    " verified ",
    ...whose(d.byUserId, self, who),
    " email address.",
  ],
  EmailChanged: (d, self, who) => [
    who(d.byUserId),
    " changed ",
    ...whose(d.byUserId, self, who),
    ` email address to ${d.email}.`,
  ],
  Banned: (d, self, who, time) => [
    who(d.byUserId),
    " banned ",
    who(self),
    d.expiresAt ? ` until ${time(d.expiresAt)}` : " for good",
    d.reason ? `, giving the reason “${d.reason}”.` : ".",
  ],
  Unbanned: (d, self, who) => [who(d.byUserId), " lifted ", ...whose(d.byUserId, self, who), " ban."],
  Erased: (d, self, who) => [
    who(d.byUserId),
    " erased the personal data of this person: their emails and names read as erased from then on.",
  ],
};

/** The sentence of a person's event, or `null` for an event of another kind. */
export function personSentence(event, who, time) {
  const tell = TELL[event.type];
  return tell ? tell(event.data ?? {}, event.aggregateId, who, time) : null;
}
