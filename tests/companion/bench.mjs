// A bench, not a test: through the same Better Auth server, create-invite and
// sign-up-with-invite with @invite-ledger/better-auth against better-invite 0.5.7:
// p50/p99 at 1 client, throughput at 16. `node bench.mjs [ledger|better-invite] [n]`.
import { withStack } from "./harness.mjs";

const plugins = process.argv[2] ? [process.argv[2]] : ["better-invite", "ledger"];
const N = Number(process.argv[3] ?? 200);

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function measure(n, clients, operation) {
  const latencies = [];
  const failures = new Map();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < n) {
        const i = next++;
        const t = performance.now();
        try {
          await operation(i);
        } catch (error) {
          const code = JSON.parse(error.message)?.code ?? "ERROR";
          failures.set(code, (failures.get(code) ?? 0) + 1);
        }
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const failed = [...failures].map(([code, count]) => `${count} ${code}`).join(", ");
  return {
    p50: percentile(latencies, 50).toFixed(1),
    p99: percentile(latencies, 99).toFixed(1),
    perSecond: ((n - [...failures.values()].reduce((a, b) => a + b, 0)) / elapsed).toFixed(0),
    failed: failed ? `  failed: ${failed}` : "",
  };
}

/** The ledger's own time per companion route (from its /metrics): where a call's time goes. */
async function ledgerTimes(ledger) {
  const text = await (await fetch(`${ledger.url}/metrics`)).text();
  const totals = new Map();
  for (const line of text.split("\n")) {
    const match = line.match(/^http_request_duration_seconds_(sum|count)\{(.*)\} ([0-9.e+-]+)$/);
    const route = match?.[2].match(/route="([^"]+)"/)?.[1];
    if (!route?.startsWith("/api/companion/")) continue;
    const entry = totals.get(route) ?? { sum: 0, count: 0 };
    entry[match[1]] += Number(match[3]);
    totals.set(route, entry);
  }
  return [...totals]
    .filter(([, t]) => t.count > 0)
    .map(([route, t]) => `${route} ${t.count} calls, mean ${((t.sum / t.count) * 1000).toFixed(2)} ms`);
}

for (const plugin of plugins) {
  await withStack({ plugin }, async ({ auth, ledger }) => {
    const admin = await auth.admin();
    const create = async () => {
      const { error } = await admin.client.invite.create({ role: "user", senderResponse: "token" });
      if (error) throw new Error(JSON.stringify(error));
    };
    const token = (await admin.client.invite.create({ role: "user", senderResponse: "token", maxUses: 100000 })).data.message;
    let run = 0;
    const signUp = async (i) => {
      const visitor = auth.browser();
      await visitor.client.invite.activate({ token });
      const { error } = await visitor.signUp(`bench${run}-${i}@example.com`);
      if (error) throw new Error(JSON.stringify(error));
    };
    await measure(20, 1, create); // warm-up
    const results = {
      "create-invite, 1 client": await measure(N, 1, create),
      "create-invite, 16 clients": await measure(N, 16, create),
    };
    run = 1;
    results["sign-up with invite, 1 client"] = await measure(N, 1, signUp);
    run = 2;
    results["sign-up with invite, 16 clients"] = await measure(N, 16, signUp);
    // The same with one invite per sign-up (made beforehand, not timed): no shared history.
    const own = [];
    for (let i = 0; i < N; i++) own.push((await admin.client.invite.create({ role: "user", senderResponse: "token" })).data.message);
    const signUpOwn = async (i) => {
      const visitor = auth.browser();
      await visitor.client.invite.activate({ token: own[i] });
      const { error } = await visitor.signUp(`own-${i}@example.com`);
      if (error) throw new Error(JSON.stringify(error));
    };
    results["sign-up, own invite, 16 clients"] = await measure(N, 16, signUpOwn);
    for (const [name, r] of Object.entries(results)) {
      console.log(`${plugin.padEnd(13)} ${name.padEnd(32)} p50 ${r.p50} ms  p99 ${r.p99} ms  ${r.perSecond}/s${r.failed}`);
    }
    if (ledger) {
      console.log("the ledger's own time per call, over the whole run (its /metrics):");
      for (const line of await ledgerTimes(ledger)) console.log(`  ${line}`);
    }
  });
}
