// One invite's life: its state (now, or at the moment chosen) and every event of
// its history in the order the ledger recorded them.
import { ApiError, fmtTime, get, withQuery } from "./api.js";
import { href, useLoad } from "./route.js";

// Fields of events that name an account: shown as links to that person's page.
const PERSON_FIELDS = /^(inviter_?id|user_?id|by_?user_?id)$/i;

function Value({ name, value, asOf }) {
  if (value === null || value === undefined) return <em>none</em>;
  if (typeof value === "string" && PERSON_FIELDS.test(name))
    return <a href={href(`/people/${encodeURIComponent(value)}`, { as_of: asOf })}>{value}</a>;
  if (typeof value === "object") return <code>{JSON.stringify(value)}</code>;
  return String(value);
}

function Fields({ data, asOf }) {
  const entries = Object.entries(data ?? {}).flatMap(([name, value]) =>
    // Nested terms (role, email, maxUses...) read better flat.
    value && typeof value === "object" && !Array.isArray(value)
      ? Object.entries(value)
      : [[name, value]],
  );
  return (
    <dl class="fields">
      {entries.map(([name, value]) => (
        <>
          <dt>{name}</dt>
          <dd>
            <Value name={name} value={value} asOf={asOf} />
          </dd>
        </>
      ))}
    </dl>
  );
}

export function Timeline({ id, asOf }) {
  const invite = useLoad(
    () => get(withQuery(`/api/ledger/invites/${encodeURIComponent(id)}`, { as_of: asOf })),
    [id, asOf],
  );
  const events = useLoad(
    () => get(withQuery(`/api/ledger/invites/${encodeURIComponent(id)}/events`, { as_of: asOf })),
    [id, asOf],
  );
  const row = invite.data?.invite;
  const notYet = invite.error instanceof ApiError && invite.error.status === 404;
  return (
    <section class="timeline-view">
      <p>
        <a href={href("/invites", { as_of: asOf })}>← Invites</a>
      </p>
      <h2>
        Invite <code>{id}</code>
      </h2>
      {notYet && <p class="note">{invite.error.message}</p>}
      {invite.error && !notYet && <p class="error">{invite.error.message}</p>}
      {row && (
        <div class="card invite-card">
          <span class={`badge status-${row.status}`} id="invite-status">
            {row.status}
          </span>{" "}
          <strong>{row.role}</strong> for {row.email ?? "anyone with the link"}, from{" "}
          <a href={href(`/people/${encodeURIComponent(row.inviterId)}`, { as_of: asOf })}>
            {row.inviterName || row.inviterEmail}
          </a>
          ; used {row.uses} of {row.maxUses}, activated {row.activations} times; expires{" "}
          {fmtTime(row.expiresAt)}.
          {invite.data.position && (
            <span class="note"> Reflects log position {invite.data.position}.</span>
          )}
        </div>
      )}
      {events.error && <p class="error">{events.error.message}</p>}
      <ol class="timeline" id="timeline">
        {(events.data?.events ?? []).map((event) => (
          <li key={event.position} class={`event event-${event.type}`} data-type={event.type}>
            <div class="when">
              <strong class="type">{event.type}</strong>
              <span>{fmtTime(event.recordedAt)}</span>
              <span class="pos">#{event.position}</span>
            </div>
            <Fields data={event.data} asOf={asOf} />
          </li>
        ))}
      </ol>
      {events.data && events.data.events.length === 0 && (
        <p class="empty">No events recorded by then.</p>
      )}
    </section>
  );
}
