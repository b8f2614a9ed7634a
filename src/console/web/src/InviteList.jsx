// Invites with the audit API's filters, a page at a time, and how many are in
// each status. The filters live in the URL, so a filtered list can be shared.
import { useEffect, useState } from "preact/hooks";

import { fmtTime, get, withQuery } from "./api.js";
import { href, navigate, useLoad } from "./route.js";

export const STATUSES = ["pending", "used_up", "cancelled", "rejected", "expired"];
const COUNT_KEYS = {
  pending: "pending",
  used_up: "usedUp",
  cancelled: "cancelled",
  rejected: "rejected",
  expired: "expired",
};
const FILTERS = ["status", "role", "inviter", "email", "created_from", "created_to"];
const PAGE = 50;

/** A date field's day as the start of that UTC day, as the API takes times. */
const dayStart = (day) => (day ? `${day}T00:00:00Z` : undefined);
const dayOf = (time) => (time ? time.slice(0, 10) : "");

function StatusCounts({ asOf, rows, active }) {
  const stats = useLoad(() => get("/api/ledger/stats"), []);
  // The counts come from today's read models; at a past moment, the page shown is counted.
  const counts = asOf
    ? Object.fromEntries(
        STATUSES.map((s) => [COUNT_KEYS[s], rows.filter((r) => r.status === s).length]),
      )
    : stats.data?.statusCounts;
  if (!counts) return null;
  return (
    <div class="status-counts" aria-label="Invites by status">
      {STATUSES.map((status) => (
        <button
          key={status}
          class={`count status-${status} ${active === status ? "on" : ""}`}
          data-status={status}
          onClick={() => navigate("/invites", { status: active === status ? undefined : status })}
        >
          <span class="n">{counts[COUNT_KEYS[status]] ?? 0}</span> {status.replace("_", " ")}
        </button>
      ))}
      {asOf && <span class="note">counted in the rows shown (as of the moment chosen)</span>}
    </div>
  );
}

function Filters({ params }) {
  const submit = (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next = {};
    for (const name of FILTERS) next[name] = form.get(name)?.trim() || undefined;
    next.created_from = dayStart(next.created_from);
    next.created_to = dayStart(next.created_to);
    navigate("/invites", next);
  };
  return (
    <form class="filters" onSubmit={submit} key={JSON.stringify(params)}>
      <label>
        Status
        <select name="status" value={params.status ?? ""}>
          <option value="">any</option>
          {STATUSES.map((s) => (
            <option value={s}>{s}</option>
          ))}
        </select>
      </label>
      <label>
        Role <input name="role" defaultValue={params.role ?? ""} size="8" />
      </label>
      <label>
        Inviter id <input name="inviter" defaultValue={params.inviter ?? ""} size="12" />
      </label>
      <label>
        Email <input name="email" type="search" defaultValue={params.email ?? ""} />
      </label>
      <label>
        Created from <input name="created_from" type="date" defaultValue={dayOf(params.created_from)} />
      </label>
      <label>
        before <input name="created_to" type="date" defaultValue={dayOf(params.created_to)} />
      </label>
      <button type="submit">Filter</button>
      <a href={href("/invites", { as_of: params.as_of })}>Clear</a>
    </form>
  );
}

export function InviteList({ params, asOf }) {
  const query = Object.fromEntries(FILTERS.map((name) => [name, params[name]]));
  const key = JSON.stringify({ query, asOf });
  const [rows, setRows] = useState([]);
  const [next, setNext] = useState(null);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(true);
  const [reflects, setReflects] = useState(null);

  const load = async (cursor, replace) => {
    setLoading(true);
    try {
      const page = await get(
        withQuery("/api/ledger/invites", { ...query, as_of: asOf, cursor, limit: PAGE }),
      );
      setRows((old) => (replace ? page.invites : [...old, ...page.invites]));
      setNext(page.nextCursor);
      setReflects(page.position);
      setError(null);
    } catch (e) {
      setError(e);
      if (replace) setRows([]);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    load(undefined, true);
  }, [key]);

  return (
    <section class="invites">
      <h2>Invites</h2>
      <StatusCounts asOf={asOf} rows={rows} active={params.status} />
      <Filters params={params} />
      {error && (
        <p class="error" role="alert">
          {error.code}: {error.message}
        </p>
      )}
      <table class="list" id="invite-table" aria-busy={loading ? "true" : "false"}>
        <thead>
          <tr>
            <th>Created</th>
            <th>Status</th>
            <th>Role</th>
            <th>For</th>
            <th>Inviter</th>
            <th>Uses</th>
            <th>Expires</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((invite) => (
            <tr key={invite.id} class="invite-row" data-id={invite.id}>
              <td>
                <a href={href(`/invites/${invite.id}`, { as_of: asOf })} class="open-timeline">
                  {fmtTime(invite.createdAt)}
                </a>
              </td>
              <td>
                <span class={`badge status-${invite.status}`}>{invite.status}</span>
              </td>
              <td>{invite.role}</td>
              <td>{invite.email ?? <em>anyone with the link</em>}</td>
              <td>
                <a href={href(`/people/${encodeURIComponent(invite.inviterId)}`, { as_of: asOf })}>
                  {invite.inviterName || invite.inviterEmail}
                </a>
              </td>
              <td>
                {invite.uses} / {invite.maxUses}
              </td>
              <td>{fmtTime(invite.expiresAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {!loading && rows.length === 0 && !error && <p class="empty">No invites match.</p>}
      <p class="foot">
        {rows.length} shown{reflects ? `, reflecting log position ${reflects}` : ""}.{" "}
        {next && (
          <button onClick={() => load(next, false)} disabled={loading}>
            More
          </button>
        )}
      </p>
    </section>
  );
}
