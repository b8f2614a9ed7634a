// One organization at the moment chosen (the time bar): who was a member then
// (memberships that had ended by then are shown, marked), its invitations with
// their status then, and its history as sentences.
import { fmtTime } from "./api.js";
import { EventList, withNames } from "./EventList.jsx";
import { people } from "./people.js";
import { PersonLink } from "./PersonLink.jsx";
import { events, invitations, members, organization, organizationPath } from "./organizations.js";
import { href, useLoad } from "./route.js";

async function loadMembers(id, asOf) {
  const rows = await members(id, asOf);
  const names = await people(rows.flatMap((m) => [m.userId, m.addedBy, m.endedBy, m.invitedBy]));
  return { rows, names };
}

async function loadInvitations(id, asOf) {
  const rows = await invitations(id, asOf);
  return { rows, names: await people(rows.map((i) => i.inviterId)) };
}

/** How a membership began: through whose invitation, or added by whom. */
function Joined({ member, names, asOf, organizationId }) {
  const person = (id) => <PersonLink id={id} names={names} asOf={asOf} />;
  if (member.invitationId)
    return (
      <>
        invited by {person(member.invitedBy)} (
        <a href={href(organizationPath(organizationId, member.invitationId), { as_of: asOf })}>
          the invitation
        </a>
        )
      </>
    );
  if (member.addedBy && member.addedBy !== member.userId) return <>added by {person(member.addedBy)}</>;
  return "created the organization or joined it directly";
}

/** A membership's state at the moment: a member, or how and when it had ended. */
function Standing({ member, names, asOf }) {
  const ended = member.status !== "member";
  const by = member.endedBy && member.status === "removed" && (
    <>
      {" "}
      by <PersonLink id={member.endedBy} names={names} asOf={asOf} />
    </>
  );
  return (
    <>
      <span class={`badge status-${member.status}`}>{member.status}</span>
      {ended && (
        <>
          {by}
          {member.endedObserved ? ", found by " : ", "}
          {fmtTime(member.endedAt)}
        </>
      )}
    </>
  );
}

function Members({ id, asOf }) {
  const { data, error } = useLoad(() => loadMembers(id, asOf), [id, asOf]);
  if (error) return <p class="error">{error.message}</p>;
  if (!data) return <p class="loading">Loading...</p>;
  if (data.rows.length === 0) return <p class="empty" id="organization-members">No members by then.</p>;
  return (
    <table class="list" id="organization-members">
      <thead>
        <tr>
          <th>Member</th>
          <th>Role</th>
          <th>Since</th>
          <th>How</th>
          <th>Standing</th>
        </tr>
      </thead>
      <tbody>
        {data.rows.map((m) => (
          <tr
            key={m.id}
            class={`member-row ${m.status === "member" ? "" : "ended"}`}
            data-email={m.email ?? ""}
            data-status={m.status}
          >
            <td>
              <PersonLink id={m.userId} names={data.names} fallback={m.email} asOf={asOf} />
              {m.email && <small> {m.email}</small>}
            </td>
            <td class="role">
              {m.role}
              {m.roleObserved && <small> (found by {fmtTime(m.updatedAt)})</small>}
            </td>
            <td>{fmtTime(m.addedAt)}</td>
            <td>
              <Joined member={m} names={data.names} asOf={asOf} organizationId={id} />
            </td>
            <td class="standing">
              <Standing member={m} names={data.names} asOf={asOf} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Invitations({ id, asOf }) {
  const { data, error } = useLoad(() => loadInvitations(id, asOf), [id, asOf]);
  if (error) return <p class="error">{error.message}</p>;
  if (!data) return <p class="loading">Loading...</p>;
  if (data.rows.length === 0)
    return <p class="empty" id="organization-invitations">No invitations by then.</p>;
  return (
    <table class="list" id="organization-invitations">
      <thead>
        <tr>
          <th>Sent</th>
          <th>From</th>
          <th>To</th>
          <th>Role</th>
          <th>Status</th>
          <th>Runs until</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {data.rows.map((i) => (
          <tr key={i.id} class="invitation-row" data-id={i.id} data-email={i.email}>
            <td>{fmtTime(i.createdAt)}</td>
            <td>
              <PersonLink id={i.inviterId} names={data.names} asOf={asOf} />
            </td>
            <td>{i.email}</td>
            <td>{i.role}</td>
            <td>
              <span class={`badge status-${i.status}`}>{i.status}</span>
            </td>
            <td>{fmtTime(i.expiresAt)}</td>
            <td>
              <a class="open-trail" href={href(organizationPath(id, i.id), { as_of: asOf })}>
                its trail
              </a>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function History({ id, asOf }) {
  const { data, error } = useLoad(async () => withNames(await events(id, asOf)), [id, asOf]);
  if (error) return <p class={error.status === 404 ? "note" : "error"}>{error.message}</p>;
  if (!data) return <p class="loading">Loading...</p>;
  return <EventList id="organization-history" loaded={data} asOf={asOf} />;
}

export function Organization({ id, asOf }) {
  const summary = useLoad(() => organization(id), [id]);
  const moment = asOf ? `as of ${fmtTime(asOf)}` : "now";
  return (
    <section class="organization">
      <p>
        <a href={href("/organizations", { as_of: asOf })}>← Organizations</a>
      </p>
      <h2 id="organization-name">
        {summary.data?.name ?? id} {summary.data?.slug && <small>{summary.data.slug}</small>}
      </h2>
      {summary.error && <p class="error">{summary.error.message}</p>}
      {summary.data === null && !summary.loading && !summary.error && (
        <p class="note">The ledger holds no event of this organization.</p>
      )}
      <h3>Members {moment}</h3>
      <Members id={id} asOf={asOf} />
      <h3>Invitations {moment}</h3>
      <Invitations id={id} asOf={asOf} />
      <h3>History</h3>
      <History id={id} asOf={asOf} />
    </section>
  );
}
