// The organizations the ledger has recorded (Better Auth's organization plugin),
// each with its members and open invitations today; one opens its page.
import { organizationPath, organizations } from "./organizations.js";
import { href, useLoad } from "./route.js";

export function Organizations({ asOf }) {
  const { data, error } = useLoad(organizations, []);
  return (
    <section class="organizations">
      <h2>Organizations</h2>
      <p class="note">
        The counts are today's; an organization's page shows its members and invitations at the
        moment above.
      </p>
      {error && <p class="error">{error.message}</p>}
      {data && data.length === 0 && (
        <p class="empty">The ledger has recorded no organization yet.</p>
      )}
      {data && data.length > 0 && (
        <table class="list" id="organization-list">
          <thead>
            <tr>
              <th>Organization</th>
              <th>Slug</th>
              <th>Members now</th>
              <th>Pending invitations</th>
            </tr>
          </thead>
          <tbody>
            {data.map((o) => (
              <tr key={o.id} class="organization-row" data-id={o.id}>
                <td>
                  <a href={href(organizationPath(o.id), { as_of: asOf })}>{o.name ?? o.id}</a>
                </td>
                <td>{o.slug ?? ""}</td>
                <td class="members">{o.members}</td>
                <td class="pending">{o.pendingInvitations}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
