// One organization invitation at the moment chosen: who invited which email,
// with which role, its status then, and its trail (every event of it, and the
// membership its acceptance began) as sentences with who and when.
import { ApiError, fmtTime } from "./api.js";
import { EventList, withNames } from "./EventList.jsx";
import { people } from "./people.js";
import { PersonLink } from "./PersonLink.jsx";
import { events, invitations, organization, organizationPath } from "./organizations.js";
import { href, useLoad } from "./route.js";

async function loadCard(id, invitation, asOf) {
  const [summary, rows] = await Promise.all([organization(id), invitations(id, asOf)]);
  const row = rows.find((i) => i.id === invitation) ?? null;
  const names = await people([row?.inviterId, row?.closedBy]);
  return { summary, row, names };
}

function Card({ card, asOf }) {
  const { row, names } = card;
  if (!row) return <p class="note">This invitation did not exist yet at that moment.</p>;
  return (
    <div class="card invitation-card">
      <span class={`badge status-${row.status}`} id="invitation-status">
        {row.status}
      </span>{" "}
      <strong>{row.role}</strong> for {row.email}, from{" "}
      <PersonLink id={row.inviterId} names={names} asOf={asOf} />, sent {fmtTime(row.createdAt)}
      {row.resent > 0 && `, sent again ${row.resent === 1 ? "once" : `${row.resent} times`}`}; runs
      until {fmtTime(row.expiresAt)}.
    </div>
  );
}

export function OrganizationInvitation({ id, invitation, asOf }) {
  const card = useLoad(() => loadCard(id, invitation, asOf), [id, invitation, asOf]);
  const trail = useLoad(
    async () => withNames(await events(id, asOf, invitation)),
    [id, invitation, asOf],
  );
  const unknown = trail.error instanceof ApiError && trail.error.status === 404;
  const name = card.data?.summary?.name ?? id;
  return (
    <section class="organization-invitation">
      <p>
        <a href={href(organizationPath(id), { as_of: asOf })}>← {name}</a>
      </p>
      <h2>
        Invitation into {name} <small>{invitation}</small>
      </h2>
      {card.error && <p class="error">{card.error.message}</p>}
      {card.data && <Card card={card.data} asOf={asOf} />}
      <h3>Its trail</h3>
      {trail.error && <p class={unknown ? "note" : "error"}>{trail.error.message}</p>}
      <EventList id="invitation-trail" loaded={trail.data} asOf={asOf} />
    </section>
  );
}
