// An event of the ledger as a sentence an auditor reads: who did what, by name.
// A sentence is a list of parts: text, or what `who(id, fallback)` gives for a
// name that links to that person's page. Invites' events are told here; a
// person's and an organization's in their own modules (event types are unique
// across the log, so the type alone says which).
import { organizationSentence } from "./organization-sentences.js";
import { personSentence } from "./person-sentences.js";
import { plural, words } from "./wording.js";

/**
 * The sentence for `event` (as the audit API shows it); `who(id, fallback)`
 * names a person part, `time(iso)` writes a time.
 */
export function sentence(event, who, time) {
  const d = event.data ?? {};
  switch (event.type) {
    case "Created": {
      const t = d.terms ?? {};
      const inviter = who(d.inviterId, d.inviterName || d.inviterEmail);
      const until = ` The invite runs until ${time(t.expiresAt)}.`;
      if (t.email) {
        const uses = t.maxUses > 1 ? ` (up to ${plural(t.maxUses, "use", "uses")})` : "";
        return [inviter, ` invited ${t.email} as ${t.role}${uses}.${until}`];
      }
      return [
        inviter,
        ` made a link for anyone to join as ${t.role}, good for ${plural(t.maxUses, "use", "uses")}.${until}`,
      ];
    }
    case "Activated":
      return d.byUserId
        ? [who(d.byUserId), " opened the invite link."]
        : ["Someone not signed in opened the invite link."];
    case "Used": {
      const user = who(d.userId, d.userEmail);
      if (d.newAccount) return [user, ` joined as ${d.roleAfter} with it.`];
      if (d.roleBefore === d.roleAfter) return [user, ` used it and kept the role ${d.roleAfter}.`];
      return [user, ` used it: their role went from ${d.roleBefore} to ${d.roleAfter}.`];
    }
    case "Cancelled":
      return [who(d.byUserId), " cancelled it."];
    case "Rejected":
      return [who(d.byUserId), " declined it."];
    case "Expired":
      return ["It expired."];
    case "Resent":
      return [who(d.byUserId), " sent the invitation email again."];
    case "Refused": {
      const r = d.refusal ?? {};
      const tried = r.attempt === "activation" ? "open" : "use";
      const person = r.userId ? who(r.userId, r.email) : r.email || "Someone";
      return [person, ` tried to ${tried} it and was refused (${words(r.reason)}).`];
    }
    case "SeatReserved":
      return [
        "A seat was held for ",
        who(d.userId, d.userName || d.userEmail),
        `'s sign-up until ${time(d.until)}.`,
      ];
    case "SeatReleased":
      return [
        d.reason === "user_absent"
          ? "The seat held for a sign-up was given back: the sign-up did not complete."
          : "The seat held for a sign-up was given back: its sign-up never answered.",
      ];
    default:
      return (
        personSentence(event, who, time) ??
        organizationSentence(event, who, time) ?? [`${words(event.type)}.`]
      );
  }
}

/** Every person id the sentences of `events` name (a person's events name the person). */
export function personIds(events) {
  return events.flatMap(({ aggregateType, aggregateId, data: d = {} }) => [
    aggregateType === "user" ? aggregateId : null,
    d.inviterId,
    d.byUserId,
    d.userId,
    d.refusal?.userId,
  ]);
}
