import { render } from "preact";
import { useEffect, useState } from "preact/hooks";

import { ApiError, apiKey, get, signIn, signOut, whoAmI } from "./api.js";
import { Activity } from "./Activity.jsx";
import { InviteList } from "./InviteList.jsx";
import { Organization } from "./Organization.jsx";
import { OrganizationInvitation } from "./OrganizationInvitation.jsx";
import { Organizations } from "./Organizations.jsx";
import { Person, PersonLookup } from "./Person.jsx";
import { href, navigate, useRoute } from "./route.js";
import { TimeBar } from "./TimeBar.jsx";
import { Timeline } from "./Timeline.jsx";
import "./style.css";

function SignIn({ onSignedIn }) {
  const [error, setError] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setError(null);
    try {
      const key = form.get("apiKey").trim();
      if (key) {
        apiKey.set(key);
        // A key the server refuses is said so here, not by an empty console.
        await get("/api/ledger/events?limit=1");
      } else {
        await signIn(form.get("email"), form.get("password"));
      }
      await onSignedIn();
    } catch (e) {
      apiKey.clear();
      setError(e.message);
    }
  };
  return (
    <form class="sign-in card" onSubmit={submit}>
      <h1>invite-ledger console</h1>
      <p>Sign in as an admin, or paste an API key (<code>invite-ledger apikey create</code>).</p>
      <label>
        Email <input name="email" type="email" autocomplete="username" />
      </label>
      <label>
        Password <input name="password" type="password" autocomplete="current-password" />
      </label>
      <label>
        or API key <input name="apiKey" autocomplete="off" placeholder="ilk_..." />
      </label>
      <button type="submit">Sign in</button>
      {error && <p class="error" role="alert">{error}</p>}
    </form>
  );
}

function View({ route }) {
  const { path, params } = route;
  const asOf = params.as_of || null;
  const invite = path.match(/^\/invites\/([^/]+)$/);
  const person = path.match(/^\/people\/([^/]+)$/);
  const organization = path.match(/^\/organizations\/([^/]+)(?:\/invitations\/([^/]+))?$/);
  if (organization) {
    const [id, invitation] = organization.slice(1).map((part) => part && decodeURIComponent(part));
    if (invitation) return <OrganizationInvitation id={id} invitation={invitation} asOf={asOf} />;
    return <Organization id={id} asOf={asOf} />;
  }
  if (path === "/organizations") return <Organizations asOf={asOf} />;
  if (invite) return <Timeline id={decodeURIComponent(invite[1])} asOf={asOf} />;
  if (person) return <Person id={decodeURIComponent(person[1])} asOf={asOf} />;
  if (path === "/activity") return <Activity params={params} />;
  return <InviteList params={params} asOf={asOf} />;
}

function App() {
  const route = useRoute();
  const [who, setWho] = useState(undefined);
  const [problem, setProblem] = useState(null);

  const check = async () => {
    const found = await whoAmI();
    if (found) {
      // An account that is not an admin may not look; say so instead of failing later.
      try {
        await get("/api/ledger/events?limit=1");
      } catch (e) {
        if (e instanceof ApiError && e.status === 403) {
          setProblem(e.message);
          setWho(null);
          return;
        }
        throw e;
      }
    }
    setProblem(null);
    setWho(found);
  };
  useEffect(() => {
    check().catch((e) => setProblem(e.message));
  }, []);

  if (who === undefined) return <p class="loading">Loading...</p>;
  if (!who)
    return (
      <main class="narrow">
        {problem && <p class="error" role="alert">{problem}</p>}
        <SignIn onSignedIn={check} />
      </main>
    );

  const asOf = route.params.as_of || null;
  const section = route.path.split("/")[1];
  return (
    <>
      <header class="top">
        <strong class="brand">invite-ledger</strong>
        <nav>
          <a href={href("/invites", { as_of: asOf })} class={section === "invites" ? "on" : ""}>
            Invites
          </a>
          <a
            href={href("/organizations", { as_of: asOf })}
            class={section === "organizations" ? "on" : ""}
          >
            Organizations
          </a>
          <a href={href("/activity", { as_of: asOf })} class={section === "activity" ? "on" : ""}>
            Activity
          </a>
        </nav>
        <PersonLookup />
        <span class="who">
          {who.kind === "session" ? who.user.email : "API key"}{" "}
          <button
            class="link"
            onClick={async () => {
              await signOut();
              setWho(null);
            }}
          >
            Sign out
          </button>
        </span>
      </header>
      <TimeBar
        asOf={asOf}
        onChange={(next) => navigate(route.path, { ...route.params, as_of: next ?? undefined })}
      />
      <main>
        <View route={route} />
      </main>
    </>
  );
}

render(<App />, document.getElementById("app"));
