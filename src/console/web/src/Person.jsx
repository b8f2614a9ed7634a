// A person: who invited them (up to the root), the accounts they invited as a
// tree, and how their role changed. Everything at the moment chosen, if one is.
import { useState } from "preact/hooks";

import { ApiError, fmtTime, get, withQuery } from "./api.js";
import { href, navigate, useLoad } from "./route.js";
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
      role: use.roleGranted,
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
  return { user, known, chain, tree, history: await roleHistory(id, user, known, asOf) };
}

export function Person({ id, asOf }) {
  const { data, error, loading } = useLoad(() => loadPerson(id, asOf), [id, asOf]);
  if (error)
    return (
      <section>
        <h2>Person</h2>
        <p class={error.status === 404 ? "note" : "error"} role="alert">
          {error.message}
        </p>
      </section>
    );
  if (!data) return <p class="loading">Loading...</p>;
  const { user, chain, tree, history } = data;
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
        {tree.position && <span class="note"> Reflects log position {tree.position}.</span>}
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
      <h3>Role history</h3>
      <table class="list" id="role-history">
        <thead>
          <tr>
            <th>When</th>
            <th>Change</th>
            <th>By</th>
            <th>How</th>
          </tr>
        </thead>
        <tbody>
          {history.map((entry) => (
            <tr key={`${entry.kind}-${entry.position ?? entry.at}`}>
              <td>{fmtTime(entry.at)}</td>
              <td>
                {entry.previousRole ? `${entry.previousRole} → ` : ""}
                {entry.role ?? (entry.kind === "registered" ? "account created" : "")}
              </td>
              <td>
                {entry.by ? (
                  <a href={href(`/people/${encodeURIComponent(entry.by)}`, { as_of: asOf })}>
                    {entry.by}
                  </a>
                ) : (
                  ""
                )}
              </td>
              <td>
                {entry.inviteId ? (
                  <a href={href(`/invites/${entry.inviteId}`, { as_of: asOf })}>invite</a>
                ) : entry.kind === "registered" ? (
                  "sign-up"
                ) : (
                  entry.kind
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
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
