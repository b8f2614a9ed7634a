// A person: who invited them (up to the root), the accounts they invited as a
// tree, how their role changed, and their account's whole history. Everything
// at the moment chosen, if one is.
import { useState } from "preact/hooks";

import { ApiError, fmtTime, get, withQuery } from "./api.js";
import { nameOf, people, person } from "./people.js";
import { PersonHistory } from "./PersonHistory.jsx";
import { href, navigate, useLoad } from "./route.js";
import { SentInvites } from "./SentInvites.jsx";
import { Tree } from "./Tree.jsx";

const DEPTH = 20;
const missingRoute = (e) => e instanceof ApiError && e.status === 404 && e.code === "NOT_FOUND";

/** `/api/ledger/users/{id}` where the server has it; `null` where it does not. */
async function profile(id) {
  try {
    return await get(`/api/ledger/users/${encodeURIComponent(id)}`);
  } catch (e) {
    if (missingRoute(e)) return null;
    throw e;
  }
}

/**
 * The role history: the server's own where it has one; otherwise the account's
 * registration and the role each use of an invite gave it (from `/uses`).
 */
async function roleHistory(id, user, known, asOf) {
  const shown = (entries) => entries.filter((entry) => !asOf || !entry.at || entry.at <= asOf);
  if (known?.roleHistory) return shown(known.roleHistory);
  const { uses } = await get(withQuery("/api/ledger/uses", { user: id, limit: 1000 }));
  return shown([
    { kind: "registered", at: user.createdAt, role: null, previousRole: null, by: user.invitedBy },
    ...uses.map((use) => ({
      kind: "invite",
      at: use.usedAt,
      role: use.roleAfter,
      previousRole: use.roleBefore,
      by: use.inviterId,
      inviteId: use.inviteId,
      position: use.globalPosition,
    })),
  ]);
}

async function loadPerson(id, asOf) {
  const [known, chain, tree] = await Promise.all([
    profile(id),
    get(withQuery(`/api/ledger/users/${encodeURIComponent(id)}/inviter-chain`, { as_of: asOf })),
    get(
      withQuery(`/api/ledger/users/${encodeURIComponent(id)}/invitees`, {
        depth: DEPTH,
        as_of: asOf,
      }),
    ),
  ]);
  const user = tree.user;
  const history = readable(await roleHistory(id, user, known, asOf), known);
  const names = await people(history.map((entry) => entry.by));
  return { user, known, chain, tree, history, names };
}

/**
 * The role history as an auditor reads it: joining with an invite is one row,
 * not an account created and then a "user → user" change.
 */
function readable(history, known) {
  const rows = [];
  for (const entry of history) {
    const last = rows[rows.length - 1];
    const joinedWith =
      entry.kind === "invite" &&
      last?.kind === "registered" &&
      !last.inviteId &&
      (!known?.inviteId || entry.inviteId === known.inviteId);
    if (joinedWith) {
      rows[rows.length - 1] = {
        ...entry,
        kind: "joined",
        at: last.at ?? entry.at,
        previousRole: entry.previousRole === entry.role ? null : entry.previousRole,
      };
    } else {
      rows.push(entry);
    }
  }
  return rows;
}

/** What a row of the role history says happened. */
function change(entry) {
  const from = entry.previousRole && entry.previousRole !== entry.role;
  switch (entry.kind) {
    case "registered":
      if (entry.inviteId) return `Joined as ${entry.role} with an invite`;
      return entry.role ? `Account created as ${entry.role}` : "Account created";
    case "joined":
      return from
        ? `Joined with an invite: ${entry.previousRole} → ${entry.role}`
        : `Joined as ${entry.role} with an invite`;
    case "invite":
      return from
        ? `${entry.previousRole} → ${entry.role} by an invite`
        : `Used an invite and kept the role ${entry.role}`;
    default:
      return from ? `${entry.previousRole} → ${entry.role}, set by an admin` : `Role set to ${entry.role}`;
  }
}

/** A person looked at before their account existed: say so, and when it began. */
function NotYet({ id, asOf }) {
  const { data, loading } = useLoad(() => person(id), [id]);
  if (loading) return <p class="loading">Loading...</p>;
  if (!data) return <p class="note">Nobody in the ledger has this id, then or now.</p>;
  const began = data.roleHistory?.[0]?.recordedAt ?? data.createdAt;
  const name = nameOf(data, id);
  return (
    <p class="note" id="not-yet" role="status">
      {name} {data.name && data.email ? `(${data.email}) ` : ""}had no account yet on{" "}
      {fmtTime(asOf)}: the ledger recorded it on {fmtTime(began)}.{" "}
      <a href={href(`/people/${encodeURIComponent(id)}`)}>See {name} now</a>.
    </p>
  );
}

export function Person({ id, asOf }) {
  const { data, error, loading } = useLoad(() => loadPerson(id, asOf), [id, asOf]);
  if (error)
    return (
      <section>
        <h2>Person</h2>
        {error.status === 404 && asOf ? (
          <NotYet id={id} asOf={asOf} />
        ) : (
          <p class={error.status === 404 ? "note" : "error"} role="alert">
            {error.message}
          </p>
        )}
      </section>
    );
  if (!data) return <p class="loading">Loading...</p>;
  const { user, chain, tree, history, names } = data;
  const link = (u) => (
    <a href={href(`/people/${encodeURIComponent(u.id)}`, { as_of: asOf })}>{u.name || u.email}</a>
  );
  return (
    <section class="person" aria-busy={loading ? "true" : "false"}>
      <h2 id="person-name">
        {user.name} <small>{user.email}</small>
      </h2>
      <p>
        Role <strong id="person-role">{user.role}</strong>; account created {fmtTime(user.createdAt)}.
      </p>
      <h3>Inviter chain</h3>
      <p class="chain" id="inviter-chain">
        {chain.chain.length === 0 ? (
          <em>Nobody invited this account (a root).</em>
        ) : (
          [...chain.chain].reverse().map((u) => (
            <>
              {link(u)}
              {" → "}
            </>
          ))
        )}
        {chain.chain.length > 0 && <strong>{user.name || user.email}</strong>}
      </p>
      <h3>
        Invitees <small>(click a person to fold or unfold; double-click to open)</small>
      </h3>
      <Tree
        root={{ ...user, invitees: tree.invitees }}
        onOpen={(personId) => navigate(`/people/${encodeURIComponent(personId)}`)}
      />
      <h3>Invites sent</h3>
      <SentInvites inviter={user.id} asOf={asOf} />
      <h3>Role history</h3>
      <table class="list" id="role-history">
        <thead>
          <tr>
            <th>When</th>
            <th>Change</th>
            <th>By</th>
            <th>Through</th>
          </tr>
        </thead>
        <tbody>
          {history.map((entry) => (
            <tr key={`${entry.kind}-${entry.position ?? entry.at}`}>
              <td>{fmtTime(entry.at)}</td>
              <td>{change(entry)}</td>
              <td>
                {entry.by ? (
                  <a href={href(`/people/${encodeURIComponent(entry.by)}`, { as_of: asOf })}>
                    {nameOf(names.get(entry.by), entry.by)}
                  </a>
                ) : (
                  ""
                )}
              </td>
              <td>
                {entry.inviteId ? (
                  <a href={href(`/invites/${entry.inviteId}`, { as_of: asOf })}>the invite</a>
                ) : entry.kind === "registered" ? (
                  "sign-up"
                ) : (
                  "an admin"
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Account history</h3>
      <PersonHistory key={user.id} id={user.id} asOf={asOf} />
    </section>
  );
}

/** Go to a person by id, or by email where the server can look emails up. */
export function PersonLookup() {
  const [problem, setProblem] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    const wanted = new FormData(event.currentTarget).get("who").trim();
    if (!wanted) return;
    setProblem(null);
    if (!wanted.includes("@")) return navigate(`/people/${encodeURIComponent(wanted)}`);
    try {
      const found = await get(withQuery("/api/ledger/users", { email: wanted }));
      const user = found?.users ? found.users[0] : found?.user ?? found;
      if (!user?.id) return setProblem("Nobody has this email");
      navigate(`/people/${encodeURIComponent(user.id)}`);
    } catch (e) {
      setProblem(missingRoute(e) ? "This server cannot look up emails yet: use an id" : e.message);
    }
  };
  return (
    <form class="lookup" onSubmit={submit}>
      <input name="who" type="search" placeholder="person: email or id" aria-label="Find a person" />
      {problem && <span class="error">{problem}</span>}
    </form>
  );
}
